# Reference values for alliance.core.benchmarking.therapist_effects, computed with lme4.
#
# Run from the repository root:
#   Rscript tests/reference/benchmarking/lme4_reference.R
# Reads data.csv and flat.csv (written by make_data.py) and writes lme4_reference.json
# next to them. The model is the Python one:
#   change ~ intake_c + (1 | therapist), REML = TRUE, intake_c = intake - mean(intake);
# each therapist's BLUP and conditional variance come from ranef(fit, condVar = TRUE).

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

here <- "tests/reference/benchmarking"

reference <- function(file) {
  d <- read.csv(file.path(here, file), colClasses = c(therapist = "character"))
  d$intake_c <- d$intake - mean(d$intake)
  fit <- lmer(change ~ intake_c + (1 | therapist), data = d, REML = TRUE)
  vc <- as.data.frame(VarCorr(fit))
  re <- ranef(fit, condVar = TRUE)$therapist
  cond_var <- as.numeric(attr(re, "postVar"))
  list(
    file = file,
    n = nrow(d),
    intake_mean = mean(d$intake),
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    therapist_variance = vc$vcov[vc$grp == "therapist"],
    residual_variance = vc$vcov[vc$grp == "Residual"],
    reml_criterion = as.numeric(REMLcrit(fit)),
    singular = isSingular(fit),
    therapists = data.frame(therapist = rownames(re), blup = re[["(Intercept)"]],
                            cond_var = cond_var,
                            n = as.integer(table(d$therapist)[rownames(re)]))
  )
}

out <- list(
  lme4_version = as.character(packageVersion("lme4")),
  r_version = R.version.string,
  models = list(data = reference("data.csv"), flat = reference("flat.csv"))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = 15, pretty = TRUE),
           file.path(here, "lme4_reference.json"))
