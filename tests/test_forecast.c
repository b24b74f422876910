/*  test_forecast: the run-out estimator of actors/odc_forecast.h on the
    series real supplies make: smooth and stepped levels, a replacement
    mid-series, idle weeks, a receptacle that tells its fill, the
    sentinels. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "odc_forecast.h"
#include "odc_test.h"

#define HOUR_MS 3600000ull
#define DAY_MS  (24 * HOUR_MS)
#define T0_MS   1796428800000ull /* 2026-12-04 00:00 UTC, a Friday */

static odc_supply_point_t s_points[4096];

/*  A supply used at rate percent a day from full at t0 (pages_a_day with
    it), read every `every` hours for `days`, its level shown in steps of
    `step` percent (rounded up: "10 %" until it is empty), the device
    idle on weekends when weekends is set (it uses nothing then and prints
    nothing). Returns the points written. */
static size_t
s_series (size_t at, double full, double rate, double pages_a_day, int every, double days,
          double step, bool weekends, bool rising)
{
    double level = full, pages = 1000;
    size_t n = at;
    for (double h = 0; h <= days * 24 && n < sizeof s_points / sizeof *s_points; h += every) {
        uint64_t t = T0_MS + (uint64_t)(h * HOUR_MS);
        int wday = (int)((t / DAY_MS + 4) % 7); /* 0 Sunday */
        bool idle = weekends && (wday == 0 || wday == 6);
        if (h > 0 && !idle) {
            level -= rate * every / 24.0;
            pages += pages_a_day * every / 24.0;
        }
        double shown = level < 0 ? 0 : level;
        /*  What a device tells: a whole percent at least. */
        shown = ceil (shown / (step > 0 ? step : 1) - 1e-9) * (step > 0 ? step : 1);
        s_points[n] = (odc_supply_point_t){t, rising ? 100 - shown : shown, 0, (int64_t)pages};
        n++;
    }
    return n;
}

/*  A smooth level used 2 % a day: 50 days of it. */
static void
test_smooth (void)
{
    size_t n = s_series (0, 100, 2, 500, 1, 20, 0, false, false);
    odc_forecast_t f;
    uint64_t now = s_points[n - 1].at_ms;
    odc_forecast (s_points, n, false, false, NULL, now, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.per_day - 2) < 0.05, "per day %.3f", f.per_day);
    CHECKF (fabs (f.left - 60) < 1, "left %.2f", f.left);
    CHECKF (fabs (f.days_left - 30) < 0.6, "days left %.2f", f.days_left);
    CHECKF (f.days_low <= f.days_left && f.days_left <= f.days_high, "%.2f %.2f %.2f", f.days_low,
            f.days_left, f.days_high);
    /*  2 % a day at 500 pages a day: 0.4 % per 100 pages, 60 % is 15,000. */
    CHECKF (fabs (f.per_kpage - 4) < 0.1, "per kpage %.3f", f.per_kpage);
    CHECKF (f.pages_left > 14500 && f.pages_left < 15500, "pages left %lld",
            (long long)f.pages_left);
    CHECK (f.points > 10);
    CHECK (f.series_ms == T0_MS);
}

/*  Steps of 10 % and 25 %: the crossings date the use. */
static void
test_steps (void)
{
    double steps[] = {10, 25};
    for (size_t k = 0; k < 2; k++) {
        size_t n = s_series (0, 100, 3, 600, 2, 20, steps[k], false, false);
        odc_forecast_t f;
        uint64_t now = s_points[n - 1].at_ms;
        odc_forecast (s_points, n, false, false, NULL, now, &f);
        /*  The truth: 40 % left after 20 days at 3 % a day: 13.3 days. */
        CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
        CHECKF (fabs (f.per_day - 3) < 0.3, "step %.0f: per day %.3f", steps[k], f.per_day);
        CHECKF (fabs (f.days_left - 40.0 / 3) < steps[k] / 3 / 2 + 0.5, "step %.0f: days left %.2f",
                steps[k], f.days_left);
        CHECKF (f.step == steps[k], "step %.1f", f.step);
        CHECKF (f.days_low <= 40.0 / 3 && 40.0 / 3 <= f.days_high, "step %.0f: range %.2f %.2f",
                steps[k], f.days_low, f.days_high);
    }
    /*  25 % steps (the first from 100 at once), 18 % used: one crossing,
        no rate. */
    size_t n = s_series (0, 100, 3, 600, 2, 6, 25, false, false);
    odc_forecast_t f;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NOT_ENOUGH && !strcmp (f.why, "not enough history"), "%s",
            f.why);
    CHECK (f.days_left == -1 && f.pages_left == -1);
}

/*  A cartridge replaced mid-series: the new one is its own series, at its
    own rate; the old one's yield is the pages printed over it. */
static void
test_replacement (void)
{
    size_t n = s_series (0, 60, 4, 800, 3, 14, 0, false, false);
    size_t fitted = n;
    /*  The new cartridge, used more slowly, its page count going on. */
    size_t m = s_series (n, 100, 1.5, 800, 3, 12, 0, false, false);
    for (size_t i = n; i < m; i++) {
        s_points[i].at_ms += 15 * DAY_MS;
        s_points[i].pages += s_points[n - 1].pages;
    }
    CHECK (odc_forecast_series_start (s_points, m, false) == fitted);
    CHECK (odc_forecast_replaced (20, 100, false));
    CHECK (!odc_forecast_replaced (20, 30, false));
    CHECK (odc_forecast_replaced (90, 3, true));
    CHECK (!odc_forecast_replaced (3, 90, true));
    odc_forecast_t f;
    odc_forecast (s_points, m, false, false, NULL, s_points[m - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.per_day - 1.5) < 0.05, "per day %.3f", f.per_day);
    CHECKF (f.series_ms == s_points[fitted].at_ms, "series");
    CHECKF (fabs (f.days_left - 82.0 / 1.5) < 1, "days left %.2f", f.days_left);
    int64_t yield = odc_forecast_yield (s_points, 0, fitted);
    CHECKF (yield > 11000 && yield < 11300, "yield %lld", (long long)yield);
    /*  A small rise (a device's new estimate) is no replacement. */
    s_points[m - 5].percent += 5;
    CHECK (odc_forecast_series_start (s_points, m, false) == fitted);
}

/*  Weekends idle, and weeks without use: the rate is what the supply does
    over the calendar, and weeks of nothing are said. */
static void
test_idle (void)
{
    size_t n = s_series (0, 100, 2, 400, 1, 28, 0, true, false);
    odc_forecast_t f;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    /*  4 weeks of 5 working days at 2 %: 40 % used in 28 days. */
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.per_day - 40.0 / 28) < 0.15, "per day %.3f", f.per_day);
    /*  Then three weeks idle: no use seen, the level still told. */
    uint64_t now = s_points[n - 1].at_ms + 21 * DAY_MS;
    odc_forecast (s_points, n, false, false, NULL, now, &f);
    CHECKF (f.status == ODC_FORECAST_NO_USE && !strcmp (f.why, "no use seen"), "%s", f.why);
    CHECKF (fabs (f.left - 60) < 1, "left %.2f", f.left);
    /*  Four days idle, a little more than a step takes: the rate it shows
        is slower, not the same. */
    size_t k = s_series (0, 100, 10, 400, 2, 5, 10, false, false);
    odc_forecast_t busy, quiet, unread;
    odc_forecast (s_points, k, false, false, NULL, s_points[k - 1].at_ms, &busy);
    /*  Not read since: nothing says it was idle, the rate stands. Read
        all the while, the same level and count: slower. */
    odc_forecast (s_points, k, false, false, NULL, s_points[k - 1].at_ms + 4 * DAY_MS, &unread);
    for (size_t i = 0; i < 48; i++) {
        s_points[k + i] = s_points[k - 1];
        s_points[k + i].at_ms += (i + 1) * 2 * HOUR_MS;
    }
    odc_forecast (s_points, k + 48, false, false, NULL, s_points[k + 47].at_ms, &quiet);
    CHECKF (busy.status == ODC_FORECAST_OK && quiet.status == ODC_FORECAST_OK &&
                unread.status == ODC_FORECAST_OK,
            "%s %s %s", busy.why, quiet.why, unread.why);
    CHECKF (fabs (unread.per_day - busy.per_day) < 0.01, "%.2f", unread.per_day);
    CHECKF (quiet.per_day < busy.per_day * 0.7, "%.2f < %.2f", quiet.per_day, busy.per_day);
    CHECKF (quiet.days_left > busy.days_left, "%.2f > %.2f", quiet.days_left, busy.days_left);
    /*  A new cartridge never used for 15 days. */
    for (size_t i = 0; i < 16; i++)
        s_points[i] = (odc_supply_point_t){T0_MS + i * DAY_MS, 100, 100, 5000};
    odc_forecast (s_points, 16, false, false, NULL, s_points[15].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NO_USE, "%s", f.why);
    odc_forecast (s_points, 5, false, false, NULL, s_points[4].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NOT_ENOUGH, "%s", f.why);
}

/*  Waste toner told as its fill (against RFC 3805's room left: a
    level that rises): forecast as the room left; emptied is its
    replacement. Told as RFC 3805 says it is a supply like another. */
static void
test_receptacle (void)
{
    size_t n = s_series (0, 100, 1, 300, 4, 30, 0, false, true);
    CHECKF (fabs (s_points[n - 1].percent - 30) < 0.5, "full %.2f", s_points[n - 1].percent);
    odc_forecast_t f;
    odc_forecast (s_points, n, true, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.left - 70) < 1 && fabs (f.days_left - 70) < 2, "left %.2f days %.2f", f.left,
            f.days_left);
    /*  Read as a consumed supply it rises: no use. */
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECK (f.status != ODC_FORECAST_OK);
    s_points[n] = s_points[n - 1];
    s_points[n].at_ms += HOUR_MS;
    s_points[n].percent = 0;
    CHECK (odc_forecast_series_start (s_points, n + 1, true) == n);
}

/*  -1 other, -2 unknown, -3 some remaining: no forecast, said so, also
    after a history of real levels; none at all is the same. */
static void
test_sentinels (void)
{
    size_t n = s_series (0, 100, 2, 500, 1, 10, 0, false, false);
    int32_t sentinels[] = {-1, -2, -3};
    for (size_t k = 0; k < 3; k++) {
        s_points[n] = (odc_supply_point_t){s_points[n - 1].at_ms + HOUR_MS, -1, sentinels[k], -1};
        odc_forecast_t f;
        odc_forecast (s_points, n + 1, false, false, NULL, s_points[n].at_ms, &f);
        CHECKF (f.status == ODC_FORECAST_LEVEL_UNKNOWN && !strcmp (f.why, "level unknown"),
                "%d: %s", sentinels[k], f.why);
        CHECK (f.left == -1 && f.days_left == -1 && f.pages_left == -1);
    }
    odc_forecast_t f;
    odc_forecast (s_points, 0, false, false, NULL, T0_MS, &f);
    CHECK (f.status == ODC_FORECAST_LEVEL_UNKNOWN);
    /*  A sentinel in the middle is passed over. */
    s_points[n / 2].percent = -1;
    s_points[n / 2].level = -3;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK && fabs (f.per_day - 2) < 0.05, "%s %.3f", f.why,
            f.per_day);
    /*  Page counts unknown: days, not pages. */
    for (size_t i = 0; i < n; i++)
        s_points[i].pages = -1;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECK (f.status == ODC_FORECAST_OK && f.pages_left == -1 && f.per_kpage == 0);
    CHECK (odc_forecast_yield (s_points, 0, n) == -1);
}

/*  A cartridge seen fitted is full then: with one change of level it
    dates the use; not seen fitted, one change is not enough. A slow
    supply in coarse steps that prints on is not idle. */
static void
test_fitted (void)
{
    size_t n = s_series (0, 100, 1, 500, 2, 12, 10, false, false);
    odc_forecast_t f;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NOT_ENOUGH, "%s", f.why);
    odc_forecast (s_points, n, false, true, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.per_day - 1) < 0.1 && fabs (f.days_left - 88) < 4, "%.3f a day, %.1f days",
            f.per_day, f.days_left);
    CHECK (f.points == 2);
    /*  0.5 % a day in steps of 10: 20 days a step; 16 days after a change
        it prints on. */
    n = s_series (0, 100, 0.5, 300, 3, 56, 10, false, false);
    odc_forecast (s_points, n, false, true, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECKF (fabs (f.per_day - 0.5) < 0.1, "%.3f a day", f.per_day);
}

/*  The week: a device idle on weekends, its pages day by day; the walk
    to the end counts the weekend ahead as the idle days they are, where
    the calendar's mean spreads them over every day. */
static void
test_week (void)
{
    /*  Four weeks, 500 pages a working day, today (the last) a Friday. */
    int64_t days[ODC_FORECAST_DAYS];
    int64_t total = 100000;
    size_t n = 0;
    for (int k = 27; k >= 0; k--) {
        int wd = ((5 - k) % 7 + 7) % 7;
        if (wd != 0 && wd != 6)
            total += 500;
        days[n++] = total;
    }
    days[3] = -1; /* a day not read */
    odc_forecast_week_t w;
    odc_forecast_week (days, n, 5, 0.5, &w);
    CHECKF (w.days == 24, "%d days", w.days);
    CHECKF (w.per_weekday[0] == 0 && w.per_weekday[6] == 0 && w.per_weekday[3] == 500, "%.0f %.0f",
            w.per_weekday[0], w.per_weekday[3]);
    /*  Friday noon, 1,000 pages: the rest of Friday (250), the weekend,
        Monday (500), half of Tuesday: 4.0 days. */
    CHECKF (fabs (odc_forecast_walk (&w, 1000) - 4.0) < 1e-9, "%.3f", odc_forecast_walk (&w, 1000));
    CHECK (odc_forecast_walk (&w, 200) == 0.5 * 200 / 250);
    CHECK (odc_forecast_walk (&w, 0) == 0);
    /*  With the series: 5 % per 1,000 pages, 1,000 pages a working day
        read hourly, the weekend idle, from a Saturday. */
    size_t m = s_series (0, 100, 5, 1000, 1, 10.5, 0, true, false);
    int64_t dp[ODC_FORECAST_DAYS];
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (i + 1 == m || s_points[i].at_ms / DAY_MS != s_points[i + 1].at_ms / DAY_MS)
            dp[k++] = s_points[i].pages;
    uint64_t now = s_points[m - 1].at_ms;
    int wd = (int)((now / DAY_MS + 4) % 7);
    odc_forecast_week (dp, k, wd, (double)(now % DAY_MS) / DAY_MS, &w);
    odc_forecast_t f, flat;
    odc_forecast (s_points, m, false, true, &w, now, &f);
    odc_forecast (s_points, m, false, true, NULL, now, &flat);
    CHECKF (f.status == ODC_FORECAST_OK && flat.status == ODC_FORECAST_OK, "%s %s", f.why,
            flat.why);
    /*  Tuesday noon: 6.5 working days at 5 %, 67.5 % left: 13.5 working
        days, to the Friday after next, 17.5 days on. */
    CHECKF (wd == 2, "weekday %d", wd);
    CHECKF (fabs (f.left - 67.5) < 1, "left %.1f", f.left);
    CHECKF (fabs (f.days_left - 17.5) < 0.3, "days left %.2f (the calendar's mean %.2f)",
            f.days_left, flat.days_left);
    CHECK (f.days_low <= f.days_left && f.days_left <= f.days_high);
}

/*  A slow supply whose level moves a unit at a time: 10 % for 15 days,
    then four changes hours apart (chance). The first reading holds the
    line: a quarter of a percent a day over the span, not 8 %; with 2 %
    used, not enough history. And a
    week of a collector started on a Friday: Friday, Saturday, Sunday
    seen; Monday to Thursday are Friday's kind. */
static void
test_slow_and_new (void)
{
    size_t n = 0;
    for (int h = 0; h <= 16 * 24; h += 4) {
        double level = h < 15 * 24        ? 10
                       : h < 15 * 24 + 8  ? 9
                       : h < 15 * 24 + 16 ? 8
                       : h < 15 * 24 + 20 ? 7
                                          : 6;
        s_points[n++] =
            (odc_supply_point_t){T0_MS + (uint64_t)h * HOUR_MS, level, 0, 1000 + h * 10};
    }
    odc_forecast_t f;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK && f.per_day < 0.3 && f.days_left > 15,
            "%s %.2f a day, %.1f days", f.why, f.per_day, f.days_left);
    odc_forecast (s_points, n - 2, false, false, NULL, s_points[n - 3].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NOT_ENOUGH, "%s", f.why);
    int64_t days[4] = {1000, 1600, 1600, 1600}; /* Thursday's end, Fri, Sat, Sun (today) */
    odc_forecast_week_t w;
    odc_forecast_week (days, 4, 0, 0.5, &w);
    CHECKF (w.days == 2 && w.per_weekday[5] == 600 && w.per_weekday[6] == 0, "%d %.0f", w.days,
            w.per_weekday[5]);
    CHECKF (w.per_weekday[1] == 600 && w.per_weekday[0] == 0, "Monday %.0f, Sunday %.0f",
            w.per_weekday[1], w.per_weekday[0]);
    CHECK (!w.weekdays_unseen);
    /*  Started on Friday: Saturday the only day measured by Sunday; the
        forecast waits for a working day. */
    odc_forecast_week (days + 1, 3, 0, 0.5, &w);
    CHECK (w.days == 1 && w.weekdays_unseen);
    size_t m = s_series (0, 100, 5, 1000, 1, 3, 0, false, false);
    odc_forecast (s_points, m, false, true, &w, s_points[m - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_NOT_ENOUGH && f.pages_left > 0, "%s", f.why);
}

/*  A history longer than the points used: the newest are. */
static void
test_long (void)
{
    size_t n = s_series (0, 100, 0.3, 100, 1, 160, 0, false, false);
    odc_forecast_t f;
    odc_forecast (s_points, n, false, false, NULL, s_points[n - 1].at_ms, &f);
    CHECKF (f.status == ODC_FORECAST_OK, "%s", f.why);
    CHECK (f.points <= ODC_FORECAST_POINTS);
    CHECKF (fabs (f.per_day - 0.3) < 0.02, "per day %.3f", f.per_day);
}

int
main (void)
{
    RUN (test_smooth);
    RUN (test_steps);
    RUN (test_replacement);
    RUN (test_idle);
    RUN (test_receptacle);
    RUN (test_sentinels);
    RUN (test_fitted);
    RUN (test_week);
    RUN (test_slow_and_new);
    RUN (test_long);
    TEST_END ();
}
