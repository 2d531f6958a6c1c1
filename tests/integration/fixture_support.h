// Shared by integration tests: build a Go fixture with a fetched toolchain
// (harness/build-fixture), run the real CLI, parse its JSON.
#pragma once

#include <llvm/Support/JSON.h>

#include <optional>
#include <string>
#include <vector>

#include "harness/command.h"

namespace dynprobe::test {

using harness::CommandResult;

// harness::run_command with a limit no test step should reach (meson's
// per-test timeout is the real one): a hung fixture or CLI is ended.
CommandResult run_command(const std::vector<std::string>& argv);

std::string source_root();
std::string cli_path();

// Go versions the integration tests cover: $DYNPROBE_GO_VERSIONS, else
// "1.15 1.19 <newest harness/toolchains knows>".
std::vector<std::string> go_versions();

// True for Go versions with the register ABI (1.17 and later).
bool register_abi(const std::string& go_version);

// A test-name suffix for a Go version parameter: "1.19" -> "go1_19".
std::string go_version_test_name(const std::string& go_version);

// Path of the fixture binary; fails the calling test (ADD_FAILURE) and
// returns "" when the build fails.
std::string build_fixture(const std::string& go_version, const std::string& fixture,
                          const std::string& mode);

// `dynprobe describe BIN FUNC --format json` parsed; nullopt (with a test
// failure recorded) when the CLI fails or prints something else.
std::optional<llvm::json::Object> describe_json(const std::string& binary,
                                                const std::string& function,
                                                const std::vector<std::string>& extra = {});

// Convenience accessors that record a failure when the key is missing.
std::string str(const llvm::json::Object& o, const char* key);
int64_t num(const llvm::json::Object& o, const char* key);

// Addresses of every RET in [start, end) as objdump disassembles them: an
// oracle independent of Capstone.
std::vector<uint64_t> objdump_returns(const std::string& binary, uint64_t start, uint64_t end);

}  // namespace dynprobe::test
