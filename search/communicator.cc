#include "search/communicator.h"

#include <cstdlib>

#ifdef FORESIGHT_WITH_MPI
#include <mpi.h>
#endif

#include "base/check.h"

namespace foresight::search {
namespace {

class Local final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::vector<std::string> Gather(const std::string& mine) override { return {mine}; }
  void Broadcast(std::string* /*text*/) override {}
};

#ifdef FORESIGHT_WITH_MPI
class Mpi final : public Communicator {
 public:
  Mpi(int* argc, char*** argv) {
    MPI_Init(argc, argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }
  ~Mpi() override { MPI_Finalize(); }
  int rank() const override { return rank_; }
  int size() const override { return size_; }

  std::vector<std::string> Gather(const std::string& mine) override {
    const long long my_size = static_cast<long long>(mine.size());
    std::vector<long long> sizes(static_cast<std::size_t>(size_));
    MPI_Gather(&my_size, 1, MPI_LONG_LONG, sizes.data(), 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    std::vector<int> counts(static_cast<std::size_t>(size_)), offsets(counts.size());
    long long total = 0;
    for (std::size_t r = 0; r < sizes.size(); ++r) {
      FS_CHECK(sizes[r] < (1LL << 31) && total + sizes[r] < (1LL << 31),
               "MPI gather of more than 2 GiB of rows");
      counts[r] = static_cast<int>(sizes[r]);
      offsets[r] = static_cast<int>(total);
      total += sizes[r];
    }
    std::string all(rank_ == 0 ? static_cast<std::size_t>(total) : 0, '\0');
    MPI_Gatherv(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, all.data(), counts.data(),
                offsets.data(), MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank_ != 0) return {};
    std::vector<std::string> out;
    for (std::size_t r = 0; r < counts.size(); ++r) {
      out.push_back(
          all.substr(static_cast<std::size_t>(offsets[r]), static_cast<std::size_t>(counts[r])));
    }
    return out;
  }

  void Broadcast(std::string* text) override {
    long long n = static_cast<long long>(text->size());
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, MPI_COMM_WORLD);
    FS_CHECK(n < (1LL << 31), "MPI broadcast of more than 2 GiB");
    text->resize(static_cast<std::size_t>(n));
    MPI_Bcast(text->data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
  }

 private:
  int rank_ = 0;
  int size_ = 1;
};
#endif

}  // namespace

std::unique_ptr<Communicator> LocalCommunicator() { return std::make_unique<Local>(); }

std::unique_ptr<Communicator> WorldCommunicator([[maybe_unused]] int* argc,
                                                [[maybe_unused]] char*** argv) {
#ifdef FORESIGHT_WITH_MPI
  const bool launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr ||
                        std::getenv("PMI_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
  if (launched) return std::make_unique<Mpi>(argc, argv);
#endif
  return LocalCommunicator();
}

bool BuiltWithMpi() {
#ifdef FORESIGHT_WITH_MPI
  return true;
#else
  return false;
#endif
}

}  // namespace foresight::search
