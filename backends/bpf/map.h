// A BPF map owned by its fd. Probe programs reference it by fd at load time
// (Assembler::ld_map_fd); user space reads it through the helpers below.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "backends/bpf/unique_fd.h"
#include "core/result.h"

namespace dynprobe::bpf {

enum class MapType { Hash, LruHash, Array, PerCpuArray, RingBuf };

struct MapSpec {
  MapType type = MapType::Hash;
  std::string name;  // shown by bpftool; the kernel keeps the first 15 bytes
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  // For a ring buffer: its size in bytes, a power of two and a multiple of the page size.
  uint32_t max_entries = 0;
};

class Map {
 public:
  static Result<Map> create(const MapSpec& spec);

  int fd() const { return fd_.get(); }
  const MapSpec& spec() const { return spec_; }

  // Bytes lookup() writes: the value, or for a per-CPU map one 8-byte aligned
  // slot per possible CPU.
  size_t lookup_size() const { return lookup_size_; }

  Status update(const void* key, const void* value, uint64_t flags = 0 /* BPF_ANY */) const;
  // False when the key is absent.
  Result<bool> lookup(const void* key, void* value) const;
  // False when the key was absent.
  Result<bool> erase(const void* key) const;

  template <class K, class V>
  Status put(const K& key, const V& value) const {
    static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);
    if (auto s = check_sizes(sizeof(K), sizeof(V)); !s) return s;
    return update(&key, &value);
  }

  template <class V, class K>
  Result<std::optional<V>> get(const K& key) const {
    static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);
    if (auto s = check_sizes(sizeof(K), sizeof(V)); !s) return std::unexpected(s.error());
    std::vector<std::byte> buf(lookup_size_);
    auto found = lookup(&key, buf.data());
    if (!found) return std::unexpected(found.error());
    if (!*found) return std::optional<V>();
    V v;
    std::memcpy(&v, buf.data(), sizeof(V));
    return std::optional<V>(v);
  }

  // One value per possible CPU, for per-CPU maps.
  template <class V, class K>
  Result<std::vector<V>> get_per_cpu(const K& key) const {
    static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);
    if (auto s = check_sizes(sizeof(K), sizeof(V)); !s) return std::unexpected(s.error());
    std::vector<std::byte> buf(lookup_size_);
    auto found = lookup(&key, buf.data());
    if (!found) return std::unexpected(found.error());
    std::vector<V> out;
    if (!*found) return out;
    size_t slot = (sizeof(V) + 7) / 8 * 8;
    for (size_t at = 0; at + sizeof(V) <= buf.size(); at += slot) {
      V v;
      std::memcpy(&v, buf.data() + at, sizeof(V));
      out.push_back(v);
    }
    return out;
  }

 private:
  Map(UniqueFd fd, MapSpec spec, size_t lookup_size)
      : fd_(std::move(fd)), spec_(std::move(spec)), lookup_size_(lookup_size) {}
  Status check_sizes(size_t key, size_t value) const;

  UniqueFd fd_;
  MapSpec spec_;
  size_t lookup_size_ = 0;
};

}  // namespace dynprobe::bpf
