/*  odc_validate: see odc_validate.h. */
#include "odc_validate.h"

#include <stdio.h>
#include <string.h>

#define S_WRAP (1ull << 32)

void
odc_validate_limits_default (odc_validate_limits_t *limits)
{
    limits->max_pages_per_minute = 200;
    limits->reset_below = 10000;
}

void
odc_validate_limits_of (odc_validate_limits_t *limits, const odc_config_t *config)
{
    limits->max_pages_per_minute = config->validation_max_pages_per_minute;
    limits->reset_below = (uint64_t)config->validation_reset_below;
}

const char *
odc_verdict_name (odc_verdict_t verdict)
{
    static const char *const names[] = {"ok", "wrap", "reset", "note", "suspect"};
    return verdict <= ODC_VERDICT_SUSPECT ? names[verdict] : "?";
}

/*  Pages the device could print from prev's reading to at_ms: at least a
    minute's worth (two readings a second apart, or a clock that went back,
    still allow a little). */
static double
s_could_print (const odc_validate_limits_t *limits, const odc_counter_seen_t *prev, uint64_t at_ms)
{
    double minutes = at_ms > prev->at_ms ? (double)(at_ms - prev->at_ms) / 60000.0 : 0;
    return (minutes < 1 ? 1 : minutes) * limits->max_pages_per_minute;
}

odc_verdict_t
odc_validate_counter (const odc_validate_limits_t *limits, const odc_counter_seen_t *prev,
                      uint64_t value, uint64_t at_ms, uint64_t uptime_cs, char *why, size_t size)
{
    if (!prev)
        return ODC_VERDICT_OK;
    double could = s_could_print (limits, prev, at_ms);
    if (value >= prev->value) {
        if ((double)(value - prev->value) <= could)
            return ODC_VERDICT_OK;
        snprintf (why, size, "rose by %llu since %llu (at most %.0f pages could be printed)",
                  (unsigned long long)(value - prev->value), (unsigned long long)prev->value,
                  could);
        return ODC_VERDICT_SUSPECT;
    }
    if (prev->value < S_WRAP && prev->value >= S_WRAP / 16 * 15 && value < S_WRAP / 16 &&
        (double)(S_WRAP - prev->value + value) <= could) {
        snprintf (why, size, "wrapped at 2^32: %llu after %llu", (unsigned long long)value,
                  (unsigned long long)prev->value);
        return ODC_VERDICT_WRAP;
    }
    bool restarted = uptime_cs && prev->uptime_cs && uptime_cs < prev->uptime_cs;
    if (restarted && value <= limits->reset_below) {
        snprintf (why, size, "reset: %llu after %llu, the device restarted",
                  (unsigned long long)value, (unsigned long long)prev->value);
        return ODC_VERDICT_RESET;
    }
    snprintf (why, size, "went down from %llu to %llu%s", (unsigned long long)prev->value,
              (unsigned long long)value,
              restarted ? " (the device restarted, but not to a fresh counter)"
                        : " without a restart of the device");
    return ODC_VERDICT_SUSPECT;
}

static bool
s_sentinel (int32_t level)
{
    return level == -1 || level == -2 || level == -3;
}

odc_verdict_t
odc_validate_supply (const odc_supply_seen_t *prev, int32_t max_capacity, int32_t level, char *why,
                     size_t size)
{
    if (!s_sentinel (level) && (level < 0 || (max_capacity > 0 && level > max_capacity))) {
        snprintf (why, size, "level %d outside 0..%d and not a sentinel", level, max_capacity);
        return ODC_VERDICT_SUSPECT;
    }
    if (!prev || s_sentinel (level) || s_sentinel (prev->level))
        return ODC_VERDICT_OK;
    /*  A replacement: the level back to at least half of the capacity. */
    bool replaced = level > prev->level && max_capacity > 0 && level >= max_capacity / 2;
    if (max_capacity != prev->max_capacity && !replaced) {
        snprintf (why, size, "capacity changed from %d to %d without a replacement",
                  prev->max_capacity, max_capacity);
        return ODC_VERDICT_SUSPECT;
    }
    if (level > prev->level && !replaced) {
        snprintf (why, size, "level rose from %d to %d without a replacement", prev->level, level);
        return ODC_VERDICT_NOTE;
    }
    return ODC_VERDICT_OK;
}

odc_verdict_t
odc_validate_counter_type (uint32_t prev_type, uint32_t type, char *why, size_t size)
{
    if (!prev_type || !type || prev_type == type)
        return ODC_VERDICT_OK;
    snprintf (why, size, "came as ASN.1 type 0x%02x, was 0x%02x", type, prev_type);
    return ODC_VERDICT_SUSPECT;
}

odc_verdict_t
odc_validate_counters_kept (const char *const *before, size_t nb, const char *const *now, size_t nn,
                            char *why, size_t size)
{
    for (size_t j = 0; j < nb; j++) {
        bool found = false;
        for (size_t i = 0; i < nn && !found; i++)
            found = !strcmp (now[i], before[j]);
        if (!found) {
            snprintf (why, size, "%s vanished (%zu counters, %zu before)", before[j], nn, nb);
            return ODC_VERDICT_SUSPECT;
        }
    }
    return ODC_VERDICT_OK;
}

odc_verdict_t
odc_validate_alert_row (int32_t index, int32_t group, int32_t code, char *why, size_t size)
{
    if (index <= 0) {
        snprintf (why, size, "alert row with index %d (code %d): not a prtAlertIndex", index, code);
        return ODC_VERDICT_NOTE;
    }
    if (!(group == 1 || (group >= 3 && group <= 18) || (group >= 30 && group <= 33))) {
        snprintf (why, size, "alert row %d with unknown prtAlertGroup %d (code %d)", index, group,
                  code);
        return ODC_VERDICT_NOTE;
    }
    return ODC_VERDICT_OK;
}
