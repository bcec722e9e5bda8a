# Reference values for the Kenward–Roger tests of alliance.core.analysis.within_between
# (df = "kenward-roger"), computed with lmerTest and pbkrtest.
#
# Run from the repository root:
#   Rscript tests/reference/multilevel/kenward_roger_reference.R
# Reads data.csv and writes kenward_roger_reference.json next to it. The variables are
# built as in lme4_reference.R (same rules as the Python code). Each model is
# fitted with lmerTest::lmer (REML) and each of lme4's optimisers, the fit with
# the lowest REML criterion is kept, and summary(fit, ddf = "Kenward-Roger") gives
# each fixed effect's standard error (from the adjusted covariance, pbkrtest::vcovAdj),
# df, t value and Pr(>|t|).
# "small" is the basic model on the first 12 clients (sorted by id), where the
# t distribution and the normal differ most.

suppressPackageStartupMessages({
  library(lmerTest)
  library(pbkrtest)
  library(jsonlite)
})

here <- "tests/reference/multilevel"
raw <- read.csv(file.path(here, "data.csv"), colClasses = c(client_id = "character",
                                                              therapist_id = "character"))

decompose <- function(d) {
  pm <- ave(d$predictor, d$client_id, FUN = mean)
  client_means <- tapply(d$predictor, d$client_id, mean)
  d$within <- d$predictor - pm
  d$between <- pm - mean(client_means)
  d
}

prepare <- function(raw, lag = FALSE) {
  d <- data.frame(client_id = raw$client_id, therapist_id = raw$therapist_id,
                  session = raw$session, predictor = raw$alliance, outcome = raw$wellbeing)
  d <- d[complete.cases(d), ]
  if (lag) {
    d <- d[order(d$client_id, d$session), ]
    nxt <- ave(seq_len(nrow(d)), d$client_id, FUN = function(i) c(i[-1], NA))
    d$outcome_lag <- d$outcome
    d$outcome <- d$outcome[nxt]
    d <- d[!is.na(nxt), ]
  }
  decompose(d)
}

first12 <- sort(unique(raw$client_id))[1:12]
models <- list(
  basic = list(lag = FALSE, formula = outcome ~ within + between + (1 | client_id)),
  therapist = list(lag = FALSE, formula = outcome ~ within + between +
                     (1 | therapist_id) + (1 | therapist_id:client_id)),
  session = list(lag = FALSE, formula = outcome ~ within + between + session + (1 | client_id)),
  lag = list(lag = TRUE, formula = outcome ~ within + between + outcome_lag + (1 | client_id)),
  lag_therapist_session = list(lag = TRUE, formula = outcome ~ within + between + outcome_lag +
                                 session + (1 | therapist_id) + (1 | therapist_id:client_id)),
  small = list(lag = FALSE, clients = first12,
               formula = outcome ~ within + between + session + (1 | client_id))
)

rename_term <- function(x) ifelse(x == "(Intercept)", "intercept", x)
optimizers <- c("nloptwrap", "bobyqa", "Nelder_Mead")
result <- list()
for (name in names(models)) {
  spec <- models[[name]]
  source_rows <- if (is.null(spec$clients)) raw else raw[raw$client_id %in% spec$clients, ]
  d <- prepare(source_rows, lag = spec$lag)
  fits <- lapply(optimizers, function(opt)
    suppressMessages(suppressWarnings(
      lmerTest::lmer(spec$formula, data = d, REML = TRUE,
                     control = lmerControl(optimizer = opt)))))
  criteria <- sapply(fits, REMLcrit)
  fit <- fits[[which.min(criteria)]]
  coefs <- summary(fit, ddf = "Kenward-Roger")$coefficients
  fixed <- list()
  for (term in rownames(coefs)) {
    fixed[[rename_term(term)]] <- list(estimate = coefs[term, "Estimate"],
                                       se = coefs[term, "Std. Error"],
                                       df = coefs[term, "df"],
                                       t = coefs[term, "t value"],
                                       p = coefs[term, "Pr(>|t|)"])
  }
  result[[name]] <- list(
    call = paste(deparse(spec$formula, width.cutoff = 500), collapse = ""),
    lag = spec$lag,
    clients = if (is.null(spec$clients)) "all" else I(spec$clients),
    n_obs = nobs(fit),
    fixed_effects = fixed,
    reml_criterion = unname(REMLcrit(fit)),
    singular = isSingular(fit)
  )
}

result[["_meta"]] <- list(
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  lmerTest_version = as.character(packageVersion("lmerTest")),
  pbkrtest_version = as.character(packageVersion("pbkrtest")),
  fit = paste("lmerTest::lmer(formula, data, REML = TRUE, control = lmerControl(optimizer = opt))",
              "for opt in nloptwrap, bobyqa, Nelder_Mead; lowest REML criterion kept;",
              "summary(fit, ddf = 'Kenward-Roger')")
)
write_json(result, file.path(here, "kenward_roger_reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat("wrote", file.path(here, "kenward_roger_reference.json"), "\n")
