// Accuracy of the collective model (models/hw/algorithms.h) against the real nccl-tests logs in
// data/nccl-tests and the vTrain A100 all-reduce sweeps in data/vtrain-a100, with the link
// parameters fitted from those logs (nothing tuned by hand).
//
// Families: logs from one machine type and cluster ("h100_xxrjun-cluster01", "a100_gcm-fixture",
// vTrain's A100 box, each Azure VM type, ...) share one set of link parameters. Base profile:
// the catalog entry of the GPU (dgx-a100-80gb, dgx-h100, dgx-h200) supplies line rates.
// Split: within every series the distinct sizes are numbered in increasing order; even-numbered
// sizes are the fit set, odd-numbered sizes the held-out set (both out-of-place and in-place
// points of a size go to the same side).
// Fit (collective series; send/recv and all-to-all series get their own links, steps 4 and 5,
// because NCCL runs point-to-point on separate p2p channels whose throughput the collective
// links do not describe):
// (1) node.scale_up latency_seconds and efficiency from the family's intra-node series, then
// fabric.nvls_efficiency (golden section) when some of those points are priced with NVLS, then
// scale_up once more;
// (2) network.nic latency and efficiency from its inter-node series with scale_up fixed (the
// catalog's scale_up when the family has no intra-node series; the catalog's nic when it has no
// inter-node series);
// (3) fabric.ring_ramp_bytes_per_rank (the ring ramp of models/hw/algorithms.h) by golden
// section over all collective series with the links fixed, kept only when it lowers the
// objective; when kept, (1), (2) and (3) once more;
// (3a) fabric.collective_launch_seconds (a per-collective cost on top of NCCL's base latency)
// by golden section on [0, 200 us] over all collective series with the links fixed, kept only
// when it lowers the objective; when kept, (1), (2) and (3) once more;
// (3b) fabric.tree_pipeline_bytes (the tree pipeline fill of models/hw/algorithms.h) by golden
// section over the inter-node collective series with the links fixed, kept only when it lowers
// their objective; when kept, (2) and (3b) once more;
// (4) "p2p" links: a copy of the fitted profile whose scale_up (nic) is refitted as in (1) ((2))
// from the family's intra-node (inter-node) send/recv series only, each with its p2p channel
// rate (fabric.p2p_nvlink_channel_bytes_per_s, fabric.p2p_channel_bytes_per_s; golden section,
// kept only when it lowers the objective; the NVLink one before and after the scale_up fit, the
// network one after the nic fit and once more); the send/recv series are priced with it;
// (5) "all-to-all" links: the same refit of scale_up and nic from the all-to-all series only
// (NCCL runs them on all p2p channels at once), used for the all-to-all series. Each fit minimises
// the sum of squared relative time errors (T_model / T_measured - 1)^2 of the fit points, by
// Nelder-Mead over log(latency) and log(efficiency), from the catalog values. The model for a
// series is PriceCollective with the log's algorithm when the model has it (ring, nvls; "default",
// "sharp" and unknown labels use auto). An efficiency above 1 means the measured busbw exceeds the
// line rate of a ring on that link (NVLS, SHARP, or a line rate that is understated): it is kept
// and flagged. Report: per family the fitted parameters and the fit's RMS relative residual; per
// series on the held-out sizes the busbw error for sizes >= 64 MiB (target within 10%) and the time
// error below 64 MiB (target within 20%): mean and worst absolute error.
#pragma once

#include <string>

#include "base/status.h"

namespace foresight::calibrate {

// Reads every nccl-tests log and busbw summary in `data_dir`/nccl-tests and every
// allreduce_*.csv in `data_dir`/vtrain-a100, fits and evaluates as above, and returns the
// Markdown block (tables and notes). Errors: unreadable or unparsable files.
Result<std::string> ValidateCollectives(const std::string& data_dir);

// Replaces the text between the lines "<!-- BEGIN generated: collectives -->" and
// "<!-- END generated: collectives -->" of the file at `doc_path` by `block`. Errors: the file
// cannot be read or written, a marker is missing or out of order.
Status ReplaceGeneratedBlock(const std::string& doc_path, const std::string& block);

}  // namespace foresight::calibrate
