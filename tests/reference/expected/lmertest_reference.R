# Reference values for the Satterthwaite tests of alliance.core.expected
# (fit_expected_response(..., df = "satterthwaite")), computed with lmerTest.
#
# Run from the repository root:
#   Rscript tests/reference/expected/lmertest_reference.R
# Reads data.csv and writes lmertest_reference.json. The data are prepared as in
# lme4_reference.R; the model is fitted with lmerTest::lmer (REML) and each of
# lme4's optimisers, the lowest REML criterion is kept, and summary(fit) gives each
# coefficient's Satterthwaite df, t value and Pr(>|t|). "small" is the same model
# on the first 30 completed cases (sorted by id), the fewest the command accepts.

suppressPackageStartupMessages({
  library(lmerTest)
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
first30 <- sort(unique(follow$client_id))[1:30]

formula <- wellbeing ~ intake * log(session) + (1 + log(session) | client_id)
names_py <- c("(Intercept)" = "intercept", "intake" = "intake",
              "log(session)" = "log_session", "intake:log(session)" = "intake_log_session")
optimizers <- c("nloptwrap", "bobyqa", "Nelder_Mead")

fit_one <- function(data) {
  fits <- lapply(optimizers, function(opt)
    suppressMessages(suppressWarnings(
      lmerTest::lmer(formula, data = data, REML = TRUE, control = lmerControl(optimizer = opt)))))
  fit <- fits[[which.min(sapply(fits, REMLcrit))]]
  coefs <- summary(fit)$coefficients
  fixed <- list()
  for (term in rownames(coefs)) {
    fixed[[names_py[[term]]]] <- list(estimate = coefs[term, "Estimate"],
                                      se = coefs[term, "Std. Error"], df = coefs[term, "df"],
                                      t = coefs[term, "t value"], p = coefs[term, "Pr(>|t|)"])
  }
  list(n_cases = length(unique(data$client_id)), n_obs = nobs(fit), fixed_effects = fixed,
       reml_criterion = unname(REMLcrit(fit)), singular = isSingular(fit))
}

result <- list(
  call = "lmerTest::lmer(wellbeing ~ intake * log(session) + (1 + log(session) | client_id), REML = TRUE)",
  all = fit_one(follow),
  small = c(list(cases = I(first30)), fit_one(follow[follow$client_id %in% first30, ])),
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  lmerTest_version = as.character(packageVersion("lmerTest"))
)
write_json(result, file.path(here, "lmertest_reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat("wrote", file.path(here, "lmertest_reference.json"), "\n")
