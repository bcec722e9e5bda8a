# Reference values for alliance.core.psychometrics, computed with R's psych package.
#
# Run from the repository root:
#   Rscript tests/reference/psychometrics/psych_reference.R
# It reads the CSV files next to it and writes psych_reference.json (full precision).
#
# For each data set: keep the selected items, drop rows with any missing item
# (na.omit), then
#   psych::alpha(x, keys = <reversed item names>, check.keys = FALSE)
#     -> total$raw_alpha, feldt$lower.ci / feldt$upper.ci (the "Feldt" row of
#        "95% confidence boundaries"), total$ase (the "Duhachek" row),
#        item.stats$r.drop, alpha.drop$raw_alpha
#   psych::omega(psych::reverse.code(keys, x, mini, maxi), nfactors = 1, plot = FALSE)
#     -> omega.tot and the factor loadings schmid$sl[, 1] (one minres factor;
#        omega_h is not meaningful with one factor)
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

here <- "tests/reference/psychometrics"

sets <- list(
  list(name = "alliance6", file = "alliance6.csv",
       items = c("bond1", "bond2", "goals1", "goals2", "tasks1", "tasks2"),
       reverse = character(0), min = 0, max = 10),
  list(name = "waisr12", file = "waisr12.csv",
       items = sprintf("wai%02d", 1:12),
       reverse = c("wai07"), min = 1, max = 5),
  list(name = "messy", file = "messy.csv",
       items = c("q1", "q2", "q3", "q4", "q5"),
       reverse = c("q3"), min = 1, max = 7)
)

results <- list()
for (s in sets) {
  raw <- read.csv(file.path(here, s$file), na.strings = c("", "NA"),
                  stringsAsFactors = FALSE)
  selected <- raw[, s$items]
  x <- na.omit(selected)
  keys <- if (length(s$reverse) > 0) s$reverse else NULL

  a <- suppressWarnings(psych::alpha(x, keys = keys, check.keys = FALSE))

  key_vector <- ifelse(s$items %in% s$reverse, -1, 1)
  keyed <- psych::reverse.code(key_vector, x, mini = s$min, maxi = s$max)
  o <- suppressMessages(suppressWarnings(psych::omega(keyed, nfactors = 1, plot = FALSE)))

  results[[s$name]] <- list(
    file = s$file,
    items = s$items,
    reverse = I(s$reverse),
    min = s$min,
    max = s$max,
    n = nrow(x),
    n_dropped = nrow(selected) - nrow(x),
    k = length(s$items),
    alpha = a$total$raw_alpha,
    alpha_ci = unname(c(a$feldt$lower.ci, a$feldt$upper.ci)),
    alpha_ase_duhachek = a$total$ase,
    omega_total = o$omega.tot,
    loadings = unname(o$schmid$sl[, 1]),
    r_drop = unname(a$item.stats$r.drop),
    alpha_if_deleted = unname(a$alpha.drop$raw_alpha),
    calls = c(
      sprintf("psych::alpha(x, keys = %s, check.keys = FALSE)", deparse(keys)),
      sprintf("psych::omega(psych::reverse.code(%s, x, mini = %s, maxi = %s), nfactors = 1, plot = FALSE)",
              deparse(key_vector), s$min, s$max))
  )
}

results$generated_by <- list(
  r_version = R.version.string,
  psych_version = as.character(packageVersion("psych")),
  gparotation_version = as.character(packageVersion("GPArotation"))
)

write(toJSON(results, auto_unbox = TRUE, digits = NA, pretty = TRUE),
      file.path(here, "psych_reference.json"))
