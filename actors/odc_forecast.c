/*  odc_forecast: when a supply runs out (see the header). */
#include "odc_forecast.h"

#include <math.h>
#include <string.h>

#define DAY_MS     86400000.0
#define DAYS_NEVER 3650.0 /* a range's far end when the rate may be 0 */

bool
odc_forecast_replaced (double before, double after, bool rising)
{
    if (before < 0 || after < 0)
        return false;
    return rising ? before - after >= ODC_FORECAST_JUMP : after - before >= ODC_FORECAST_JUMP;
}

size_t
odc_forecast_series_start (const odc_supply_point_t *points, size_t n, bool rising)
{
    size_t start = 0;
    double last = -1;
    for (size_t i = 0; i < n; i++) {
        if (points[i].percent < 0)
            continue;
        if (odc_forecast_replaced (last, points[i].percent, rising))
            start = i;
        last = points[i].percent;
    }
    return start;
}

int64_t
odc_forecast_yield (const odc_supply_point_t *points, size_t from, size_t to)
{
    int64_t first = -1, last = -1;
    for (size_t i = from; i < to; i++)
        if (points[i].pages >= 0) {
            if (first < 0)
                first = points[i].pages;
            last = points[i].pages;
        }
    return first < 0 || last < first ? -1 : last - first;
}

/*  Least squares of y on x: the slope, its standard error (0 with two
    points), the intercept; false when x does not vary. */
typedef struct {
    double sx, sy, sxx, sxy, syy;
    double xmin, xmax, ymin, ymax;
    size_t n;
} s_fit_t;

static void
s_fit_add (s_fit_t *f, double x, double y)
{
    f->xmin = !f->n || x < f->xmin ? x : f->xmin;
    f->xmax = !f->n || x > f->xmax ? x : f->xmax;
    f->ymin = !f->n || y < f->ymin ? y : f->ymin;
    f->ymax = !f->n || y > f->ymax ? y : f->ymax;
    f->sx += x;
    f->sy += y;
    f->sxx += x * x;
    f->sxy += x * y;
    f->syy += y * y;
    f->n++;
}

static bool
s_fit_solve (const s_fit_t *f, double *slope, double *se, double *intercept)
{
    if (f->n < 2)
        return false;
    double n = (double)f->n;
    double sxx = f->sxx - f->sx * f->sx / n;
    double sxy = f->sxy - f->sx * f->sy / n;
    double syy = f->syy - f->sy * f->sy / n;
    if (sxx <= 1e-12)
        return false;
    *slope = sxy / sxx;
    *intercept = (f->sy - *slope * f->sx) / n;
    double res = syy - *slope * sxy;
    *se = f->n > 2 && res > 0 ? sqrt (res / (n - 2) / sxx) : 0;
    return true;
}

static void
s_unknown (odc_forecast_t *out, odc_forecast_status_t status, const char *why)
{
    out->status = status;
    out->why = why;
    out->days_left = out->days_low = out->days_high = -1;
    out->pages_left = -1;
}

void
odc_forecast (const odc_supply_point_t *points, size_t n, bool rising, bool fitted,
              const odc_forecast_week_t *week, uint64_t now_ms, odc_forecast_t *out)
{
    memset (out, 0, sizeof *out);
    out->left = -1;
    size_t newest = n;
    while (newest > 0 && points[newest - 1].percent < 0)
        newest--;
    if (!n || newest < n) {
        /*  The level now is a sentinel (or none was read): whatever came
            before is not the level now. */
        s_unknown (out, ODC_FORECAST_LEVEL_UNKNOWN, "level unknown");
        return;
    }
    size_t start = odc_forecast_series_start (points, n, rising);
    out->series_ms = points[start].at_ms;

    /*  The changes of level, newest ODC_FORECAST_POINTS of them: the
        crossings. A small rise (noise, a device's new estimate) moves the
        level without a crossing. */
    size_t first = start, changes = 0;
    double prev = -1, step = 0;
    for (size_t i = n; i-- > start && changes < ODC_FORECAST_POINTS;) {
        if (points[i].percent < 0)
            continue;
        double r = rising ? 100 - points[i].percent : points[i].percent;
        if (prev >= 0 && r > prev)
            changes++;
        prev = r;
        first = i;
    }
    s_fit_t by_time = {0}, by_page = {0};
    double x0 = (double)points[first].at_ms;
    fitted = fitted || start > 0;
    size_t anchors = 0;
    prev = -1;
    uint64_t prev_ms = 0, last_change_ms = 0;
    int64_t prev_pages = -1;
    changes = 0;
    for (size_t i = first; i < n; i++) {
        const odc_supply_point_t *p = &points[i];
        if (p->percent < 0)
            continue;
        double r = rising ? 100 - p->percent : p->percent;
        if (prev >= 0 && r < prev) {
            /*  It crossed into the new level between the two readings: a
                device shows a level until what is left is below it (a
                level of 10 in steps of 10 is 1 to 10 left; 0 is empty),
                so what was left then is the new level. */
            double mid_ms = ((double)prev_ms + (double)p->at_ms) / 2;
            s_fit_add (&by_time, (mid_ms - x0) / DAY_MS, r);
            if (prev_pages >= 0 && p->pages >= prev_pages)
                s_fit_add (&by_page, ((double)prev_pages + (double)p->pages) / 2, r);
            step = step == 0 || prev - r < step ? prev - r : step;
            last_change_ms = (uint64_t)mid_ms;
            changes++;
        }
        prev = r;
        prev_ms = p->at_ms;
        prev_pages = p->pages;
    }
    /*  The cartridge's first reading is a point of the line too: a new
        one is full when fitted (the level it shows); one that was in the
        device before the collector saw it is somewhere in the step it
        showed (its middle: fine steps only, ODC_FORECAST_FINE). It holds
        the line to the whole span where a slow supply's few changes, made
        a level's unit at a time, may come close together. Not fitted, it
        adds to two changes, never makes them. */
    if (first == start && points[start].percent >= 0 &&
        (fitted || (changes >= 2 && step <= ODC_FORECAST_FINE))) {
        double r0 = rising ? 100 - points[start].percent : points[start].percent;
        if (!fitted)
            r0 -= step / 2;
        s_fit_add (&by_time, 0, r0);
        if (points[start].pages >= 0)
            s_fit_add (&by_page, (double)points[start].pages, r0);
        anchors = 1;
    }
    double shown = prev; /* the level now, as the device shows it */
    out->left = shown;
    out->points = (uint32_t)(changes + anchors);
    out->step = step;
    double since_change =
        ((double)now_ms - (double)(changes ? last_change_ms : points[start].at_ms)) / DAY_MS;
    /*  Idle: no change for ODC_FORECAST_IDLE_DAYS and, where the page
        count is known, no page printed in the readings of those days (a
        slow supply in coarse steps changes seldom, and is not idle). */
    bool idle = since_change >= ODC_FORECAST_IDLE_DAYS;
    double idle_from = (double)now_ms - ODC_FORECAST_IDLE_DAYS * DAY_MS;
    int64_t recent = -1;
    for (size_t i = first; idle && i < n; i++)
        if ((double)points[i].at_ms >= idle_from && points[i].pages >= 0) {
            if (recent < 0)
                recent = points[i].pages;
            else if (points[i].pages > recent)
                idle = false;
        }
    if (changes + anchors < 2) {
        s_unknown (out, idle ? ODC_FORECAST_NO_USE : ODC_FORECAST_NOT_ENOUGH,
                   idle ? "no use seen" : "not enough history");
        return;
    }
    if (idle) {
        s_unknown (out, ODC_FORECAST_NO_USE, "no use seen");
        return;
    }
    /*  Too little of it used yet: a line through a few hours, or a
        percent or two of level, is the page count's lag (read with the
        meters, up to a pass apart) more than the supply's use. */
    if (by_time.xmax - by_time.xmin < ODC_FORECAST_MIN_DAYS ||
        by_time.ymax - by_time.ymin < ODC_FORECAST_MIN_USED) {
        s_unknown (out, ODC_FORECAST_NOT_ENOUGH, "not enough history");
        return;
    }
    double slope, se, a;
    if (!s_fit_solve (&by_time, &slope, &se, &a)) {
        s_unknown (out, ODC_FORECAST_NOT_ENOUGH, "not enough history");
        return;
    }
    double rate = -slope;
    if (rate <= 1e-9) {
        s_unknown (out, ODC_FORECAST_NO_USE, "no use seen");
        return;
    }
    /*  Idle since the last change for longer than a step takes: the next
        crossing is not before now, which bounds the rate. */
    if (step > 0 && since_change * rate > step) {
        s_fit_add (&by_time, ((double)now_ms - x0) / DAY_MS, shown - step);
        double s2, se2, a2;
        if (s_fit_solve (&by_time, &s2, &se2, &a2) && -s2 > 1e-9) {
            rate = -s2;
            se = se2;
            a = a2;
            slope = s2;
        }
    }
    double now_x = ((double)now_ms - x0) / DAY_MS;
    double left = a + slope * now_x;
    double low = shown - step, high = shown;
    left = left < low ? low : left > high ? high : left;
    left = left < 0 ? 0 : left > 100 ? 100 : left;
    out->status = ODC_FORECAST_OK;
    out->why = "";
    out->left = left;
    out->pages_left = -1;
    double lo_left = left - step / 4 < 0 ? 0 : left - step / 4;
    double hi_left = left + step / 4;
    /*  Use follows pages: where the counts are known, the rate per page
        makes the pages left, and the device's pages by day of the week
        (week) date them: the weekend ahead, or the holiday week behind,
        counts as it is. Without a week, the pages a calendar day over the
        points' span; without page counts, the slope against time. */
    double ps, pse, pa;
    int64_t pages = odc_forecast_yield (points, first, n);
    double span = ((double)points[n - 1].at_ms - (double)points[first].at_ms) / DAY_MS;
    if (s_fit_solve (&by_page, &ps, &pse, &pa) && -ps > 1e-12) {
        double pp = -ps, pp_fast = pp + 2 * pse, pp_slow = pp - 2 * pse;
        out->per_kpage = pp * 1000;
        out->pages_left = (int64_t)(left / pp + 0.5);
        if (week && week->days > 0 && !week->weekdays_unseen) {
            out->days_left = odc_forecast_walk (week, left / pp);
            out->days_low = odc_forecast_walk (week, lo_left / pp_fast);
            out->days_high =
                pp_slow > 1e-12 ? odc_forecast_walk (week, hi_left / pp_slow) : DAYS_NEVER;
            double a_week = 0;
            for (int d = 0; d < 7; d++)
                a_week += week->per_weekday[d];
            out->per_day = pp * a_week / 7;
            if (a_week <= 0 || out->days_left >= DAYS_NEVER)
                s_unknown (out, ODC_FORECAST_NO_USE, "no use seen");
            return;
        }
        if (week && week->weekdays_unseen) {
            /*  A collector's first days: no working day measured whole. */
            s_unknown (out, ODC_FORECAST_NOT_ENOUGH, "not enough history");
            out->per_kpage = pp * 1000;
            out->pages_left = (int64_t)(left / pp + 0.5);
            return;
        }
        if (pages > 0 && span >= 1) {
            double a_day = (double)pages / span;
            rate = pp * a_day;
            se = pse * a_day;
        }
        else if (span < 1) {
            s_unknown (out, ODC_FORECAST_NOT_ENOUGH, "not enough history");
            return;
        }
    }
    else if (span < 1) {
        /*  Hours of working-day use are no rate a day. */
        s_unknown (out, ODC_FORECAST_NOT_ENOUGH, "not enough history");
        return;
    }
    out->per_day = rate;
    out->days_left = left / rate;
    out->days_low = lo_left / (rate + 2 * se);
    double slow = rate - 2 * se;
    out->days_high = slow > 1e-9 && hi_left / slow < DAYS_NEVER ? hi_left / slow : DAYS_NEVER;
}

void
odc_forecast_week (const int64_t *day_pages, size_t n, int weekday, double day_done,
                   odc_forecast_week_t *out)
{
    memset (out, 0, sizeof *out);
    out->weekday = weekday;
    out->day_done = day_done < 0 ? 0 : day_done > 1 ? 1 : day_done;
    double sum[7] = {0};
    int count[7] = {0};
    /*  day_pages[n - 1] is today's (weekday), not over yet: not used;
        day i is n - 1 - i days before. */
    for (size_t i = 1; i + 1 < n; i++) {
        if (day_pages[i] < 0 || day_pages[i - 1] < 0 || day_pages[i] < day_pages[i - 1])
            continue;
        int wd = (int)(((long)weekday - (long)(n - 1 - i)) % 7 + 7) % 7;
        double v = (double)(day_pages[i] - day_pages[i - 1]);
        sum[wd] += v;
        count[wd]++;
        out->days++;
    }
    /*  A day of the week not seen: the mean of the days seen of its kind
        (Monday to Friday, or the weekend). */
    double kind_sum[2] = {0}, kind_n[2] = {0};
    for (int d = 0; d < 7; d++) {
        int weekend = d == 0 || d == 6;
        kind_sum[weekend] += sum[d];
        kind_n[weekend] += count[d];
    }
    /*  No weekend seen: as a working day (the sooner end); no working day
        seen: no week to go by (weekdays_unseen). */
    for (int d = 0; d < 7; d++) {
        int weekend = d == 0 || d == 6;
        out->per_weekday[d] = count[d]           ? sum[d] / count[d]
                              : kind_n[weekend]  ? kind_sum[weekend] / kind_n[weekend]
                              : kind_n[!weekend] ? kind_sum[!weekend] / kind_n[!weekend]
                                                 : 0;
    }
    out->weekdays_unseen = out->days > 0 && !kind_n[0];
}

double
odc_forecast_walk (const odc_forecast_week_t *week, double pages)
{
    if (pages <= 0)
        return 0;
    int wd = week->weekday;
    double days = 0, part = 1 - week->day_done; /* what is left of today */
    for (int k = 0; k < DAYS_NEVER; k++) {
        double v = week->per_weekday[wd] * part;
        if (v > 0 && pages <= v)
            return days + part * pages / v;
        pages -= v;
        days += part;
        part = 1;
        wd = (wd + 1) % 7;
    }
    return DAYS_NEVER;
}
