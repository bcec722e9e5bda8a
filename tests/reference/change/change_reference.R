# Reference values for alliance.core.change, computed in base R from the formulas
# of Jacobson & Truax (1991), J Consult Clin Psychol 59(1), 12-19:
#   S_diff = SD * sqrt(2) * sqrt(1 - r_xx);  RC = (post - pre) / S_diff;  reliable if |RC| > 1.96
#   a = M1 + d * 2 * SD1;  b = M0 - d * 2 * SD0;  c = (SD0 * M1 + SD1 * M0) / (SD0 + SD1)
#   (d = +1 when higher scores are better, -1 when lower scores are better)
#   recovered = reliable improvement and post beyond the cutoff; improved = reliable
#   improvement only; deteriorated = reliable worsening; unchanged otherwise.
#
# Run from the repository root:
#   Rscript tests/reference/change/change_reference.R
# It writes change_reference.json next to this script (full precision).
suppressPackageStartupMessages(library(jsonlite))

here <- "tests/reference/change"

rc <- function(pre, post, sd, rxx, higher_is_better = TRUE) {
  s_diff <- sd * sqrt(2) * sqrt(1 - rxx)
  rci <- (post - pre) / s_diff
  reliable <- abs(rci) > 1.96
  better <- if (higher_is_better) post > pre else post < pre
  direction <- ifelse(!reliable, "no reliable change", ifelse(better, "improved", "deteriorated"))
  list(pre = pre, post = post, sd = sd, reliability = rxx, higher_is_better = higher_is_better,
       s_diff = s_diff, rci = rci, reliable = reliable, direction = direction,
       min_reliable_change = 1.96 * s_diff)
}

cutoffs <- function(m0, sd0, m1, sd1, higher_is_better = TRUE) {
  d <- if (higher_is_better) 1 else -1
  list(m0 = m0, sd0 = sd0, m1 = m1, sd1 = sd1, higher_is_better = higher_is_better,
       a = m1 + d * 2 * sd1, b = m0 - d * 2 * sd0, c = (sd0 * m1 + sd1 * m0) / (sd0 + sd1))
}

classify <- function(pre, post, sd, rxx, cutoff, higher_is_better) {
  change <- rc(pre, post, sd, rxx, higher_is_better)
  beyond <- if (higher_is_better) post > cutoff else post < cutoff
  category <- ifelse(change$direction == "deteriorated", "deteriorated",
              ifelse(change$direction == "improved",
                     ifelse(beyond, "recovered", "improved"), "unchanged"))
  c(change, list(cutoff = cutoff, category = category))
}

# Alliance-like 0-40 total, higher is better (the example in the command's help).
alliance <- rc(18, 27, 7.5, 0.85)
# The same numbers on a symptom scale, where lower is better: the rise is a deterioration.
symptom_rise <- rc(18, 27, 7.5, 0.85, higher_is_better = FALSE)
# A change just short of reliable.
small <- rc(18, 25, 7.5, 0.85)

# Functional norm M0 = 30, SD0 = 6; dysfunctional M1 = 18, SD1 = 7.5 (higher is better).
wellbeing_norms <- cutoffs(30, 6, 18, 7.5)
# Symptom scale: functional M0 = 5, SD0 = 4; dysfunctional M1 = 15, SD1 = 5 (lower is better).
symptom_norms <- cutoffs(5, 4, 15, 5, higher_is_better = FALSE)

# Classification of six clients on the symptom scale, cutoff c, SD 5, reliability 0.84.
clients <- classify(pre = c(20, 16, 12, 20, 10, 12), post = c(8, 10, 14, 19, 17, 4),
                    sd = 5, rxx = 0.84, cutoff = symptom_norms$c, higher_is_better = FALSE)

results <- list(
  reliable_change = list(alliance = alliance, symptom_rise = symptom_rise, small = small),
  cutoffs = list(wellbeing = wellbeing_norms, symptom = symptom_norms),
  classification = clients,
  generated_by = list(r_version = R.version.string)
)
write(toJSON(results, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      file.path(here, "change_reference.json"))
