#include "calibrate/fit_linear.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace foresight::calibrate {
namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t n = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end());
  return v[n];
}

// Weighted solve over the active columns; inactive coefficients are 0.
Eigen::VectorXd Solve(const Eigen::MatrixXd& a, const Eigen::VectorXd& y, const Eigen::VectorXd& d,
                      const Eigen::VectorXd& w, const std::vector<bool>& active) {
  std::vector<int> cols;
  for (int j = 0; j < a.cols(); ++j) {
    if (active[j]) cols.push_back(j);
  }
  Eigen::VectorXd x = Eigen::VectorXd::Zero(a.cols());
  if (cols.empty()) return x;
  Eigen::MatrixXd m(a.rows(), static_cast<int>(cols.size()));
  Eigen::VectorXd rhs(a.rows());
  for (int i = 0; i < a.rows(); ++i) {
    const double s = std::sqrt(w[i]) / d[i];
    for (std::size_t c = 0; c < cols.size(); ++c) m(i, static_cast<int>(c)) = a(i, cols[c]) * s;
    rhs[i] = y[i] * s;
  }
  Eigen::VectorXd norms = m.colwise().norm().transpose();
  for (int c = 0; c < norms.size(); ++c) {
    if (norms[c] <= 0) norms[c] = 1;
    m.col(c) /= norms[c];
  }
  const Eigen::VectorXd z = m.colPivHouseholderQr().solve(rhs);
  for (std::size_t c = 0; c < cols.size(); ++c) {
    x[cols[c]] = z[static_cast<int>(c)] / norms[static_cast<int>(c)];
  }
  return x;
}

}  // namespace

RobustResult RobustLeastSquares(const Eigen::MatrixXd& a, const Eigen::VectorXd& y,
                                const Eigen::VectorXd& denominators,
                                const std::vector<bool>& nonnegative,
                                const RobustOptions& options) {
  FS_CHECK(a.rows() == y.size() && a.rows() == denominators.size(), "row count mismatch");
  FS_CHECK(a.rows() >= a.cols(), "fewer rows than unknowns");
  FS_CHECK(nonnegative.empty() || static_cast<int>(nonnegative.size()) == a.cols(),
           "nonnegative flags must match the columns");
  for (int i = 0; i < denominators.size(); ++i) {
    FS_CHECK(denominators[i] > 0, "row denominators must be positive");
  }
  std::vector<bool> active(static_cast<std::size_t>(a.cols()), true);
  RobustResult result;
  while (true) {
    Eigen::VectorXd w = Eigen::VectorXd::Ones(a.rows());
    Eigen::VectorXd x = Solve(a, y, denominators, w, active);
    int iteration = 1;
    for (; options.robust && iteration < options.max_iterations; ++iteration) {
      const Eigen::VectorXd r = (y - a * x).cwiseQuotient(denominators);
      std::vector<double> abs_r(static_cast<std::size_t>(r.size()));
      for (int i = 0; i < r.size(); ++i) abs_r[static_cast<std::size_t>(i)] = std::abs(r[i]);
      const double scale = std::max(1.4826 * Median(abs_r), 1e-15);
      for (int i = 0; i < r.size(); ++i) {
        const double u = std::abs(r[i]) / scale;
        w[i] = u <= options.huber_k ? 1.0 : options.huber_k / u;
      }
      const Eigen::VectorXd next = Solve(a, y, denominators, w, active);
      const double change = (next - x).cwiseAbs().maxCoeff();
      const double size = std::max(x.cwiseAbs().maxCoeff(), 1e-300);
      x = next;
      if (change <= options.tolerance * size) break;
    }
    // Active set: fix the most negative constrained coefficient at zero and refit.
    int worst = -1;
    for (int j = 0; j < a.cols(); ++j) {
      if (!nonnegative.empty() && nonnegative[j] && active[j] && x[j] < 0 &&
          (worst < 0 || x[j] * a.col(j).norm() < x[worst] * a.col(worst).norm()))
        worst = j;
    }
    if (worst < 0) {
      result.x = x;
      result.weights = w;
      result.iterations = iteration;
      return result;
    }
    active[worst] = false;
  }
}

}  // namespace foresight::calibrate
