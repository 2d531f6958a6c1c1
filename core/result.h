// Errors cross module borders as values: every fallible operation returns
// Result<T>, and the message is one line fit to show a user as-is.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace dynprobe {

struct Error {
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(std::string message) {
  return std::unexpected<Error>(Error{std::move(message)});
}

}  // namespace dynprobe
