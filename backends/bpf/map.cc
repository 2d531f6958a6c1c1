#include "backends/bpf/map.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace dynprobe::bpf {

namespace {

bpf_map_type kernel_type(MapType t) {
  switch (t) {
    case MapType::Hash:
      return BPF_MAP_TYPE_HASH;
    case MapType::LruHash:
      return BPF_MAP_TYPE_LRU_HASH;
    case MapType::Array:
      return BPF_MAP_TYPE_ARRAY;
    case MapType::PerCpuArray:
      return BPF_MAP_TYPE_PERCPU_ARRAY;
    case MapType::RingBuf:
      return BPF_MAP_TYPE_RINGBUF;
  }
  return BPF_MAP_TYPE_UNSPEC;
}

std::string errno_text(int err) {
  std::string s = std::strerror(err);
  if (err == EPERM) s += " (needs root, or CAP_BPF and CAP_PERFMON)";
  return s;
}

}  // namespace

Result<Map> Map::create(const MapSpec& spec) {
  const std::string what = "creating BPF map '" + spec.name + "': ";
  if (spec.type == MapType::RingBuf) {
    long page = sysconf(_SC_PAGESIZE);
    uint32_t n = spec.max_entries;
    if (n == 0 || (n & (n - 1)) != 0 || n % page != 0)
      return fail(what + "ring buffer size " + std::to_string(n) +
                  " is not a power of two multiple of the page size");
    if (spec.key_size || spec.value_size)
      return fail(what + "a ring buffer has no key or value size");
  } else if (spec.key_size == 0 || spec.value_size == 0 || spec.max_entries == 0) {
    return fail(what + "key size, value size and entry count must be non-zero");
  }

  // The kernel rejects names with characters other than [A-Za-z0-9_.].
  std::string name = spec.name.substr(0, BPF_OBJ_NAME_LEN - 1);
  for (char& c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.')) c = '_';

  int fd = bpf_map_create(kernel_type(spec.type), name.c_str(), spec.key_size, spec.value_size,
                          spec.max_entries, nullptr);
  if (fd < 0) return fail(what + errno_text(errno));

  size_t lookup_size = spec.value_size;
  if (spec.type == MapType::PerCpuArray) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0) {
      close(fd);
      return fail(what + "cannot count possible CPUs");
    }
    lookup_size = (spec.value_size + 7) / 8 * 8 * static_cast<size_t>(cpus);
  }
  return Map(UniqueFd(fd), spec, lookup_size);
}

Status Map::check_sizes(size_t key, size_t value) const {
  if (key != spec_.key_size || value != spec_.value_size)
    return fail("BPF map '" + spec_.name + "' holds " + std::to_string(spec_.key_size) +
                "-byte keys and " + std::to_string(spec_.value_size) + "-byte values, not " +
                std::to_string(key) + " and " + std::to_string(value));
  return {};
}

Status Map::update(const void* key, const void* value, uint64_t flags) const {
  if (bpf_map_update_elem(fd(), key, value, flags) != 0)
    return fail("updating BPF map '" + spec_.name + "': " + errno_text(errno));
  return {};
}

Result<bool> Map::lookup(const void* key, void* value) const {
  if (bpf_map_lookup_elem(fd(), key, value) == 0) return true;
  if (errno == ENOENT) return false;
  return fail("reading BPF map '" + spec_.name + "': " + errno_text(errno));
}

Result<bool> Map::erase(const void* key) const {
  if (bpf_map_delete_elem(fd(), key) == 0) return true;
  if (errno == ENOENT) return false;
  return fail("deleting from BPF map '" + spec_.name + "': " + errno_text(errno));
}

}  // namespace dynprobe::bpf
