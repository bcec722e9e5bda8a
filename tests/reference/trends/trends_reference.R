# Reference slopes for alliance.core.trends.recent_trend.
# For each series: drop unrated sessions, keep the last 5 rated sessions (by session
# number), fit lm(score ~ session), report the slope and the fitted change
# slope * (last session - first session).
# Run from this folder: Rscript trends_reference.R
d <- read.csv("trends_data.csv")
out <- do.call(rbind, lapply(split(d, d$series), function(s) {
  s <- s[!is.na(s$score), ]
  s <- s[order(s$session), ]
  s <- tail(s, 5)
  fit <- lm(score ~ session, data = s)
  b <- unname(coef(fit)["session"])
  data.frame(series = s$series[1], n = nrow(s), first = min(s$session), last = max(s$session),
             slope = b, change = b * (max(s$session) - min(s$session)))
}))
write.csv(out, "trends_reference.csv", row.names = FALSE)
print(out, digits = 15)
