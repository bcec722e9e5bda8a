# Reference values for alliance.core.psychometrics with missing answers handled
# pairwise, computed with R's psych package and its defaults (use = "pairwise").
#
# Run from the repository root:
#   Rscript tests/reference/psychometrics/psych_pairwise.R
# It makes waisr12_missing.csv from waisr12.csv (about 8 % of the answers
# removed at random with a fixed seed, more often in some items than in others,
# and two rows with no answer at all) and writes psych_pairwise.json (full
# precision).
#
#   psych::alpha(x, keys = "wai07", check.keys = FALSE)        # use = "pairwise"
#     -> total$raw_alpha, feldt$lower.ci / feldt$upper.ci, item.stats$r.drop,
#        alpha.drop$raw_alpha
#   psych::omega(psych::reverse.code(keys, x, 1, 5), nfactors = 1, plot = FALSE)
#     -> omega.tot and schmid$sl[, 1]  (correlations from cor(x, use = "pairwise"))
# and the same calls on na.omit(x) for the listwise numbers.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

here <- "tests/reference/psychometrics"
items <- sprintf("wai%02d", 1:12)

full <- read.csv(file.path(here, "waisr12.csv"), stringsAsFactors = FALSE)
set.seed(20261207)
rates <- seq(0.02, 0.14, length.out = length(items))
holes <- full
for (j in seq_along(items)) {
  gone <- runif(nrow(holes)) < rates[j]
  holes[gone, items[j]] <- NA
}
holes[c(17, 140), items] <- NA
write.csv(holes, file.path(here, "waisr12_missing.csv"), row.names = FALSE, na = "")

x <- read.csv(file.path(here, "waisr12_missing.csv"), na.strings = c("", "NA"))[, items]
key_vector <- ifelse(items == "wai07", -1, 1)

summarise <- function(x) {
  a <- suppressWarnings(psych::alpha(x, keys = "wai07", check.keys = FALSE))
  keyed <- psych::reverse.code(key_vector, x, mini = 1, maxi = 5)
  o <- suppressMessages(suppressWarnings(psych::omega(keyed, nfactors = 1, plot = FALSE)))
  list(n = nrow(x),
       alpha = a$total$raw_alpha,
       alpha_ci = unname(c(a$feldt$lower.ci, a$feldt$upper.ci)),
       omega_total = o$omega.tot,
       loadings = unname(o$schmid$sl[, 1]),
       r_drop = unname(a$item.stats$r.drop),
       alpha_if_deleted = unname(a$alpha.drop$raw_alpha))
}

results <- list(
  file = "waisr12_missing.csv",
  items = items,
  reverse = I("wai07"),
  min = 1,
  max = 5,
  rows_in_file = nrow(holes),
  rows_without_any_answer = sum(rowSums(!is.na(x)) == 0),
  pairwise = summarise(x),
  listwise = summarise(na.omit(x)),
  generated_by = list(
    r_version = R.version.string,
    psych_version = as.character(packageVersion("psych")),
    gparotation_version = as.character(packageVersion("GPArotation")))
)
write(toJSON(results, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      file.path(here, "psych_pairwise.json"))
