# Reference values for alliance.core.analysis.within_between, computed with lme4.
#
# Run from the repository root:
#   Rscript tests/reference/multilevel/lme4_reference.R
# Reads data.csv (written by make_data.py) and writes lme4_reference.json and
# fixed_effects.csv next to it. The variables are built exactly as the Python
# code builds them:
#   - rows with a missing outcome or predictor are dropped first;
#   - person mean = mean of the client's predictor over the rows in the model;
#   - within  = predictor - person mean;
#   - between = person mean - mean of the person means (each client counted once);
#   - lag form: the remaining rows of each client, ordered by session, are paired
#     with the next remaining row; the outcome is the next row's outcome, the
#     predictor and outcome_lag (and session) are the earlier row's values, and
#     the person mean is taken over the predictor values of the pairs.
# All models are fitted by REML: lme4::lmer(..., REML = TRUE). The REML criterion of
# a model with a lagged outcome can have two local minima (client variance zero, and
# a positive one); lme4's default optimiser stops at the boundary one for the "lag"
# model below. So every model is fitted with each of lme4's optimisers and the fit
# with the lowest REML criterion is kept (the criteria of all of them are stored).

suppressPackageStartupMessages({
  library(lme4)
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

models <- list(
  basic = list(lag = FALSE, formula = outcome ~ within + between + (1 | client_id)),
  therapist = list(lag = FALSE, formula = outcome ~ within + between +
                     (1 | therapist_id) + (1 | therapist_id:client_id)),
  session = list(lag = FALSE, formula = outcome ~ within + between + session + (1 | client_id)),
  lag = list(lag = TRUE, formula = outcome ~ within + between + outcome_lag + (1 | client_id)),
  lag_therapist_session = list(lag = TRUE, formula = outcome ~ within + between + outcome_lag +
                                 session + (1 | therapist_id) + (1 | therapist_id:client_id))
)

rename_term <- function(x) ifelse(x == "(Intercept)", "intercept", x)
rename_group <- function(x) c(client_id = "client", "therapist_id:client_id" = "client",
                              therapist_id = "therapist", Residual = "residual")[x]

optimizers <- c("nloptwrap", "bobyqa", "Nelder_Mead")
result <- list()
rows <- list()
for (name in names(models)) {
  spec <- models[[name]]
  d <- prepare(raw, lag = spec$lag)
  fits <- lapply(optimizers, function(opt)
    suppressMessages(suppressWarnings(
      lmer(spec$formula, data = d, REML = TRUE, control = lmerControl(optimizer = opt)))))
  criteria <- sapply(fits, REMLcrit)
  fit <- fits[[which.min(criteria)]]
  coefs <- summary(fit)$coefficients
  fixed <- list()
  for (term in rownames(coefs)) {
    fixed[[rename_term(term)]] <- list(estimate = coefs[term, "Estimate"],
                                       se = coefs[term, "Std. Error"],
                                       t = coefs[term, "t value"])
    rows[[length(rows) + 1]] <- data.frame(model = name, term = rename_term(term),
                                           estimate = coefs[term, "Estimate"],
                                           se = coefs[term, "Std. Error"])
  }
  vc <- as.data.frame(VarCorr(fit))
  variances <- setNames(as.list(vc$vcov), rename_group(vc$grp))
  result[[name]] <- list(
    call = paste(deparse(spec$formula, width.cutoff = 500), collapse = ""),
    lag = spec$lag,
    n_obs = nobs(fit),
    n_clients = length(unique(d$client_id)),
    fixed_effects = fixed,
    variance_components = variances,
    reml_criterion = unname(REMLcrit(fit)),
    optimizer = optimizers[which.min(criteria)],
    reml_criterion_by_optimizer = as.list(setNames(unname(criteria), optimizers)),
    singular = isSingular(fit)
  )
}

result[["_meta"]] <- list(
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  fit = paste("lme4::lmer(formula, data, REML = TRUE, control = lmerControl(optimizer = opt))",
              "for opt in nloptwrap, bobyqa, Nelder_Mead; lowest REML criterion kept")
)
write_json(result, file.path(here, "lme4_reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
write.csv(do.call(rbind, rows), file.path(here, "fixed_effects.csv"), row.names = FALSE)
cat("wrote", file.path(here, "lme4_reference.json"), "\n")
