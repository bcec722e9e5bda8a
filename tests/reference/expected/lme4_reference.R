# Reference values for alliance.core.expected.fit_expected_response, computed with lme4.
#
# Run from the repository root:
#   Rscript tests/reference/expected/lme4_reference.R
# Reads data.csv (written by make_data.py) and writes lme4_reference.json. The
# variables are built exactly as the Python code builds them:
#   - rows with a missing score are dropped;
#   - a case counts as completed with at least 3 rated sessions;
#   - intake = the case's score at its lowest rated session number;
#   - the model is fitted to the scores after the intake session.
# Fitted by REML with each of lme4's optimisers; the lowest REML criterion is kept.

suppressPackageStartupMessages({
  library(lme4)
  library(jsonlite)
})

here <- "tests/reference/expected"
d <- read.csv(file.path(here, "data.csv"), colClasses = c(client_id = "character"))
d <- d[!is.na(d$wellbeing), ]
d <- d[ave(d$session, d$client_id, FUN = length) >= 3, ]
first <- ave(d$session, d$client_id, FUN = min)
intakes <- d[d$session == first, ]
d$intake <- intakes$wellbeing[match(d$client_id, intakes$client_id)]
follow <- d[d$session > first, ]

formula <- wellbeing ~ intake * log(session) + (1 + log(session) | client_id)
optimizers <- c("nloptwrap", "bobyqa", "Nelder_Mead")
fits <- lapply(optimizers, function(opt)
  suppressMessages(suppressWarnings(
    lmer(formula, data = follow, REML = TRUE, control = lmerControl(optimizer = opt)))))
criteria <- sapply(fits, REMLcrit)
fit <- fits[[which.min(criteria)]]

coefs <- summary(fit)$coefficients
names_py <- c("(Intercept)" = "intercept", "intake" = "intake",
              "log(session)" = "log_session", "intake:log(session)" = "intake_log_session")
fixed <- list()
for (term in rownames(coefs)) {
  fixed[[names_py[[term]]]] <- list(estimate = coefs[term, "Estimate"],
                                    se = coefs[term, "Std. Error"])
}
G <- VarCorr(fit)$client_id
result <- list(
  call = "lmer(wellbeing ~ intake * log(session) + (1 + log(session) | client_id), REML = TRUE)",
  n_cases = length(unique(follow$client_id)),
  n_obs = nobs(fit),
  fixed_effects = fixed,
  cov_random = unname(matrix(as.numeric(G), 2, 2)),
  residual_variance = sigma(fit)^2,
  reml_criterion = unname(REMLcrit(fit)),
  optimizer = optimizers[which.min(criteria)],
  reml_criterion_by_optimizer = as.list(setNames(unname(criteria), optimizers)),
  singular = isSingular(fit),
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4"))
)
write_json(result, file.path(here, "lme4_reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat("wrote", file.path(here, "lme4_reference.json"), "\n")
