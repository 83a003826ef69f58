// Communicator: how the processes of one sweep or search share the work (docs/search.md).
//
// A single process is rank 0 of size 1. Under `mpirun -n N` (when foresight is built with MPI)
// each process is one rank: the points are dealt out by index (point i goes to rank i mod N),
// each rank evaluates its share on its own thread pool, and rank 0 gathers and merges the rows,
// so the output equals the single-process run.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace foresight::search {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Every rank passes its bytes; rank 0 receives all of them in rank order (others: empty).
  virtual std::vector<std::string> Gather(const std::string& mine) = 0;
  // Rank 0's `text` is copied to every rank.
  virtual void Broadcast(std::string* text) = 0;
};

// The one-process communicator (rank 0 of 1).
std::unique_ptr<Communicator> LocalCommunicator();

// An MPI communicator over MPI_COMM_WORLD when this binary was built with MPI and was started by
// an MPI launcher (mpirun sets OMPI_COMM_WORLD_SIZE / PMI_SIZE / PMIX_RANK); otherwise the
// local one. Initialises MPI on creation and finalises it when destroyed; create at most one,
// from main().
std::unique_ptr<Communicator> WorldCommunicator(int* argc, char*** argv);

// Whether this binary was built with MPI support.
bool BuiltWithMpi();

}  // namespace foresight::search
