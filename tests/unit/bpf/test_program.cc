#include <fcntl.h>
#include <gtest/gtest.h>

#include "backends/bpf/assembler.h"
#include "backends/bpf/program.h"

namespace dynprobe::bpf {
namespace {

TEST(BpfProgram, VerifierRejectionCarriesItsLog) {
  Assembler a;
  a.mov64(r0, r2);  // r2 was never written
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  auto prog = Program::load("uninit_read", *insns);
  ASSERT_FALSE(prog);
  const std::string& msg = prog.error().message;
  EXPECT_NE(msg.find("uninit_read"), std::string::npos) << msg;
  EXPECT_NE(msg.find("verifier log"), std::string::npos) << msg;
  // The kernel's own words for reading an unset register.
  EXPECT_NE(msg.find("R2 !read_ok"), std::string::npos) << msg;
}

TEST(BpfProgram, ProgramThatRunsOffItsEndIsRejected) {
  Assembler a;
  a.mov64(r0, 0);
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  auto prog = Program::load("no_exit", *insns);
  ASSERT_FALSE(prog);
  EXPECT_NE(prog.error().message.find("verifier log"), std::string::npos) << prog.error().message;
}

TEST(BpfProgram, EmptyProgramIsRefusedBeforeTheKernel) {
  auto prog = Program::load("empty", {});
  ASSERT_FALSE(prog);
  EXPECT_NE(prog.error().message.find("no instructions"), std::string::npos);
}

TEST(BpfProgram, ProgramsOutliveNothingButTheirOwner) {
  Assembler a;
  a.mov64(r0, 0);
  a.exit();
  auto insns = a.finish();
  ASSERT_TRUE(insns);
  int fd = -1;
  {
    auto prog = Program::load("scoped", *insns);
    ASSERT_TRUE(prog) << prog.error().message;
    fd = prog->fd();
    Program moved = std::move(*prog);
    EXPECT_EQ(moved.fd(), fd);
  }
  EXPECT_EQ(fcntl(fd, F_GETFD), -1);  // closed once, by the moved-to owner
}

}  // namespace
}  // namespace dynprobe::bpf
