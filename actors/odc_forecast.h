/*  odc_forecast: when a supply runs out, from the accepted history of its
    level and of the device's page count (issue 18).

    Pure functions: no store, no bus, no clock. The supplies actor keeps
    each supply's points and calls them; the unit tests
    (tests/test_forecast.c) give each case its series.

    A series is one cartridge: the points since the last replacement. A
    replacement is a level that jumps up by at least ODC_FORECAST_JUMP
    percent of its capacity; a smaller rise is the device's noise, not a
    new cartridge. A receptacle (waste toner) tells, by RFC 3805, the room
    that remains in it: it runs out (full) as a supply does, and emptied
    is its replacement. A device that tells a receptacle's fill instead (a
    level that rises with use: rising) is forecast on 100 less it, and a
    drop is its replacement; both kinds run out when what is left is 0.

    Levels that move in steps (10 %, 25 %: many devices) are read by their
    changes: a device shows a level until what is left is below it (10 in
    steps of 10 is 1 to 10 left, 0 is empty), so the supply was at the new
    level when it crossed into it, between the last reading at the old
    level and the first at the new: each change is one point, at the
    middle of that span; smooth levels (steps of a percent or two) give a
    point for every change the same way. The cartridge's first reading is
    a point too: full when it was seen fitted, else (fine steps only) in
    the middle of the step it showed, beside two changes at least. The use rate is the
    least-squares slope through those points against the device's page
    count (per page), and the pages a calendar day over the same span
    (weekends and holidays in it) make it a rate per day; without page
    counts the slope against time is. An idle week is a long span between
    two changes, not a rate of zero. The level now is the line's value
    now, kept within the step the device shows. The range is the slope's
    two standard errors and a quarter of a step of level either way.

    Where no forecast can be made the reason is said: "level unknown" (the
    Printer-MIB's sentinels -1, -2, -3, or a capacity not known), "not
    enough history" (fewer than two points since the replacement, points
    that span less than ODC_FORECAST_MIN_DAYS or ODC_FORECAST_MIN_USED of
    level, or a week without a working day measured), "no use seen" (no change over ODC_FORECAST_IDLE_DAYS and
    no page printed since the last, or a slope that does not go down). */
#ifndef ODC_FORECAST_H
#define ODC_FORECAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ODC_FORECAST_JUMP      15.0 /* percent points: a replacement */
#define ODC_FORECAST_IDLE_DAYS 14.0 /* days without a change: no use seen */
#define ODC_FORECAST_POINTS    128  /* changes of level used at the most (the newest) */
#define ODC_FORECAST_FINE      2.0  /* percent: a step this small tells a level to a point */
#define ODC_FORECAST_MIN_DAYS  1.0  /* the points span a day at least */
#define ODC_FORECAST_MIN_USED  3.0  /* and 3 percent of level at least */

/*  One accepted reading of a supply. percent: 0..100 of its capacity (the
    supply loop's decoded percent), -1 when not computable (then level says
    which sentinel); pages: the device's total page count at about that
    time, -1 not known. */
typedef struct {
    uint64_t at_ms;
    double percent;
    int32_t level;
    int64_t pages;
} odc_supply_point_t;

typedef enum {
    ODC_FORECAST_OK = 0,
    ODC_FORECAST_LEVEL_UNKNOWN,
    ODC_FORECAST_NOT_ENOUGH,
    ODC_FORECAST_NO_USE,
} odc_forecast_status_t;

typedef struct {
    odc_forecast_status_t status;
    const char *why;  /* "" when OK, else the reason (static text) */
    double left;      /* percent left now (a receptacle: room left), -1 not known */
    double per_day;   /* percent used per day */
    double per_kpage; /* percent used per 1,000 pages, 0 not known */
    double days_left; /* at the rate per day; -1 not known */
    double days_low;  /* the range: the soonest and the latest */
    double days_high;
    int64_t pages_left; /* at the rate per page; -1 not known */
    uint32_t points;    /* changes of level used */
    uint64_t series_ms; /* the cartridge's first reading */
    double step;        /* the level's resolution seen (percent) */
} odc_forecast_t;

/*  A device's pages by day of the week, from its page count at the end
    of each of its last days: per_weekday[0] Sunday .. [6]; days: the days
    measured (0: none, no week to go by); a day of the week never seen
    takes the mean of those of its kind seen (Monday to Friday, or the
    weekend); no weekend seen, the working days' (the sooner end); no
    working day seen (weekdays_unseen): the forecast has not enough
    history (a collector's first weekend). weekday: today's; day_done: how
    much of today has gone (0..1). */
typedef struct {
    double per_weekday[7];
    int days;
    int weekday;
    double day_done;
    bool weekdays_unseen; /* days, but not one Monday to Friday among them */
} odc_forecast_week_t;

#define ODC_FORECAST_DAYS 29 /* days of page counts a week is made of at the most */

/*  The week from day_pages[0..n), oldest first, the last today's (not
    over: not used); -1 a day not read. */
void odc_forecast_week (const int64_t *day_pages, size_t n, int weekday, double day_done,
                        odc_forecast_week_t *out);

/*  How many days, from now, the device takes to print pages, day by day
    of its week (today's part by what is left of it); 3650 at the most. */
double odc_forecast_walk (const odc_forecast_week_t *week, double pages);

/*  Whether after, read after before, is a new cartridge (rising: the
    level falls when it is emptied). */
bool odc_forecast_replaced (double before, double after, bool rising);

/*  The first point of the newest series of points[0..n) (oldest first):
    the index after the last replacement, 0 when none. */
size_t odc_forecast_series_start (const odc_supply_point_t *points, size_t n, bool rising);

/*  The forecast at now_ms from points[0..n), oldest first (the whole
    history: the newest series is taken from it). fitted: the first point
    is a cartridge fitted then (a replacement within points is too). week:
    the device's pages by day of the week (NULL, or no days in it: the
    calendar's mean over the points). */
void odc_forecast (const odc_supply_point_t *points, size_t n, bool rising, bool fitted,
                   const odc_forecast_week_t *week, uint64_t now_ms, odc_forecast_t *out);

/*  Pages printed over the series [from, to) of points (a cartridge's yield
    when from was its fitting); -1 when the counts are not known. */
int64_t odc_forecast_yield (const odc_supply_point_t *points, size_t from, size_t to);

#endif
