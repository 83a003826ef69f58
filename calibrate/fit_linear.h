// Robust linear least squares for the calibration fitters (Eigen).
//
// Minimises sum_i rho( r_i / s ),  r_i = (y_i - A_i x) / d_i
// with rho the Huber function (quadratic for |u| <= k, linear beyond; k = 1.345 gives 95%
// efficiency on Gaussian noise), d_i > 0 a per-row denominator (d_i = y_i makes the residuals
// relative, so a 10 us and a 10 ms point count alike) and s = 1.4826 * median |r_i| the robust
// scale, re-estimated each iteration. Solved by iteratively reweighted least squares (IRLS,
// Huber 1981): weights w_i = min(1, k s / |r_i|); each step is a column-scaled Householder QR
// solve of the rows multiplied by sqrt(w_i) / d_i. Columns flagged `nonnegative` are kept >= 0
// by an active set: the most negative one is fixed at 0 and the rest refitted.
// Cost: O(iterations * rows * cols^2).
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace foresight::calibrate {

struct RobustOptions {
  double huber_k = 1.345;
  int max_iterations = 100;
  double tolerance = 1e-12;  // relative change of x that stops the iteration
  bool robust = true;        // false: plain weighted least squares (one solve)
};

struct RobustResult {
  Eigen::VectorXd x;
  Eigen::VectorXd weights;  // final IRLS weights in [0, 1]
  int iterations = 0;
};

// Requires A.rows() == y.size() == denominators.size() >= A.cols(), denominators > 0, and
// nonnegative empty or of size A.cols().
RobustResult RobustLeastSquares(const Eigen::MatrixXd& a, const Eigen::VectorXd& y,
                                const Eigen::VectorXd& denominators,
                                const std::vector<bool>& nonnegative = {},
                                const RobustOptions& options = {});

}  // namespace foresight::calibrate
