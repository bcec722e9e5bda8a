# Reference values for alliance.core.practice, computed with lme4 and metafor.
#
# Run from the repository root:
#   Rscript tests/reference/practice/lme4_reference.R
# Reads sessions.csv and ruptures.csv (written by make_data.py) and writes
# lme4_reference.json next to them. The models are the Python ones, fitted by REML:
#   level:       alliance ~ 1 + (1 | therapist) + (1 | therapist:client)
#   discrepancy: (therapist_alliance - alliance) ~ 1 + (1 | therapist) + (1 | therapist:client)
#   outcome:     residual ~ 1 + (1 | therapist) + (1 | therapist:client)
#   repaired:    repaired ~ 1 + (1 | therapist) + (1 | therapist:client)      (ruptures)
#   duration:    sessions_to_repair ~ 1 + (1 | therapist) + (1 | therapist:client)
#   trend:       alliance_c ~ 0 + session_c + (0 + session_c | therapist), where alliance_c
#                and session_c are centred on each client's own means (clients with two or
#                more ratings)
#   focus:       alliance ~ after + (1 | client), therapist T1's sessions only
# Each therapist's conditional mode and conditional variance come from
# ranef(fit, condVar = TRUE). Every model is fitted with each of lme4's optimisers and
# the fit with the lowest REML criterion is kept (as in tests/reference/multilevel).
# The agreement of ratings: per therapist, the within-client correlation of the
# therapist's and the client's ratings (each client's means removed), Fisher's z with
# variance 1 / (n - k - 2); pooled with metafor::rma(method = "DL") and shrunk with blup().

suppressPackageStartupMessages({
  library(lme4)
  library(metafor)
  library(jsonlite)
})

here <- "tests/reference/practice"
sessions <- read.csv(file.path(here, "sessions.csv"),
                     colClasses = c(therapist = "character", client = "character"))
ruptures <- read.csv(file.path(here, "ruptures.csv"),
                     colClasses = c(therapist = "character", client = "character"))
sessions$difference <- sessions$therapist_alliance - sessions$alliance
rated <- sessions[!is.na(sessions$alliance), ]
rated <- rated[ave(rated$alliance, rated$client, FUN = length) >= 2, ]
rated$alliance_c <- rated$alliance - ave(rated$alliance, rated$client)
rated$session_c <- rated$session - ave(rated$session, rated$client)

optimizers <- c("nloptwrap", "bobyqa", "Nelder_Mead")
best_fit <- function(formula, d) {
  fits <- lapply(optimizers, function(opt)
    suppressMessages(suppressWarnings(
      lmer(formula, data = d, REML = TRUE, control = lmerControl(optimizer = opt)))))
  fits[[which.min(sapply(fits, REMLcrit))]]
}

modes <- function(fit, term = "therapist") {
  re <- ranef(fit, condVar = TRUE)[[term]]
  post <- attr(re, "postVar")
  lapply(setNames(seq_len(nrow(re)), rownames(re)), function(i)
    list(mode = unname(unlist(re[i, ])), cond_var = as.vector(post[, , i])))
}

describe <- function(formula, d) {
  d <- d[complete.cases(d[, all.vars(formula)]), ]
  fit <- best_fit(formula, d)
  vc <- as.data.frame(VarCorr(fit))
  list(
    formula = paste(deparse(formula, width.cutoff = 500), collapse = ""),
    n = nobs(fit),
    fixef = as.list(fixef(fit)),
    se = as.list(sqrt(diag(as.matrix(vcov(fit))))),
    variances = lapply(split(vc, seq_len(nrow(vc))), function(r)
      list(grp = r$grp, var1 = r$var1, var2 = r$var2, vcov = r$vcov)),
    reml_criterion = as.numeric(REMLcrit(fit)),
    singular = isSingular(fit),
    therapists = modes(fit, if ("therapist" %in% names(ranef(fit))) "therapist" else "client")
  )
}

out <- list(
  level = describe(alliance ~ 1 + (1 | therapist) + (1 | therapist:client), sessions),
  discrepancy = describe(difference ~ 1 + (1 | therapist) + (1 | therapist:client), sessions),
  outcome = describe(residual ~ 1 + (1 | therapist) + (1 | therapist:client), sessions),
  repaired = describe(repaired ~ 1 + (1 | therapist) + (1 | therapist:client), ruptures),
  duration = describe(sessions_to_repair ~ 1 + (1 | therapist) + (1 | therapist:client),
                      ruptures),
  trend = describe(alliance_c ~ 0 + session_c + (0 + session_c | therapist), rated),
  focus = describe(alliance ~ after + (1 | client), sessions[sessions$therapist == "T1", ])
)

# Agreement of ratings.
both <- sessions[complete.cases(sessions[, c("alliance", "therapist_alliance")]), ]
per <- do.call(rbind, lapply(split(both, both$therapist), function(d) {
  dx <- d$therapist_alliance - ave(d$therapist_alliance, d$client)
  dy <- d$alliance - ave(d$alliance, d$client)
  r <- sum(dx * dy) / sqrt(sum(dx^2) * sum(dy^2))
  n <- nrow(d); k <- length(unique(d$client))
  data.frame(therapist = d$therapist[1], r = r, z = atanh(r), v = 1 / (n - k - 2), n = n,
             k = k)
}))
meta <- rma(yi = z, vi = v, data = per, method = "DL")
shrunk <- blup(meta)
out$agreement <- list(
  therapists = lapply(setNames(seq_len(nrow(per)), per$therapist), function(i)
    list(r = per$r[i], z = per$z[i], v = per$v[i], n = per$n[i], k = per$k[i],
         blup = shrunk$pred[i], blup_se = shrunk$se[i])),
  mean = as.numeric(meta$beta), se = meta$se, tau2 = meta$tau2, q = meta$QE
)

out[["_meta"]] <- list(
  r_version = R.version.string,
  lme4_version = as.character(packageVersion("lme4")),
  metafor_version = as.character(packageVersion("metafor")),
  fit = paste("lme4::lmer(formula, data, REML = TRUE) with each of nloptwrap, bobyqa,",
              "Nelder_Mead; lowest REML criterion kept; ranef(fit, condVar = TRUE)")
)
write_json(out, file.path(here, "lme4_reference.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
cat("wrote", file.path(here, "lme4_reference.json"), "\n")
