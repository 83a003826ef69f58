#include "calibrate/validate_collectives.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace foresight::calibrate {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ValidateCollectivesTest, ReplacesOnlyTheGeneratedBlock) {
  const std::string path = testing::TempDir() + "/validation_block.md";
  std::ofstream(path) << "# V\n\n## Step time\nkeep me\n"
                         "<!-- BEGIN generated: collectives -->\nold table\n"
                         "<!-- END generated: collectives -->\n\n## After\nkeep too\n";
  ASSERT_TRUE(ReplaceGeneratedBlock(path, "new table\n").ok());
  EXPECT_EQ(Slurp(path),
            "# V\n\n## Step time\nkeep me\n"
            "<!-- BEGIN generated: collectives -->\nnew table\n"
            "<!-- END generated: collectives -->\n\n## After\nkeep too\n");
  std::ofstream(path) << "no markers\n";
  const Status missing = ReplaceGeneratedBlock(path, "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("expected the marker lines"), std::string::npos);
}

TEST(ValidateCollectivesTest, EveryLogOfTheSharedDataIsEvaluated) {
  const std::string data = std::string(FORESIGHT_SOURCE_DIR) + "/../shared/data";
  if (!std::filesystem::exists(data + "/nccl-tests")) GTEST_SKIP() << "no shared data";
  Result<std::string> block = ValidateCollectives(data);
  ASSERT_TRUE(block.ok()) << block.error().ToString();
  // 20 nccl-tests logs (the 1-node sendrecv "partial" one included), 2 systems of the Azure
  // summary and 7 vTrain sweeps: 29 series, each with one row.
  EXPECT_NE(block->find("of 29."), std::string::npos) << *block;
  // Regression bar on the held-out accuracy (docs/validation.md, "Collectives"): 17 of the 29
  // series met both targets on 2026-12-01 (10 before the tree fill, the p2p channels, the
  // all-to-all links and the launch cost). Raise it when the model improves.
  const std::string met_label = "Series meeting both targets on held-out sizes: ";
  const std::size_t at = block->find(met_label);
  ASSERT_NE(at, std::string::npos) << *block;
  EXPECT_GE(std::stoi(block->substr(at + met_label.size())), 17) << *block;
  for (int gpus = 2; gpus <= 8; ++gpus) {
    EXPECT_NE(block->find("allreduce_a100_" + std::to_string(gpus) + "gpu.csv"), std::string::npos);
  }
}

}  // namespace
}  // namespace foresight::calibrate
