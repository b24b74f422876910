/*  odc_route: see odc_route.h. */
#include "odc_route.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

int
odc_route_count (const odc_config_t *c)
{
    return 2 + (int)c->destination_count;
}

int
odc_route_index (const odc_config_t *c, const char *name)
{
    if (!strcmp (name, "record"))
        return ODC_ROUTE_RECORD;
    if (!strcmp (name, "portal"))
        return ODC_ROUTE_PORTAL;
    for (size_t i = 0; i < c->destination_count; i++)
        if (c->destinations[i].name && !strcmp (c->destinations[i].name, name))
            return 2 + (int)i;
    return -1;
}

const char *
odc_route_name (const odc_config_t *c, int index)
{
    return index == ODC_ROUTE_RECORD   ? "record"
           : index == ODC_ROUTE_PORTAL ? "portal"
                                       : c->destinations[index - 2].name;
}

odc_dest_type_t
odc_route_type (const odc_config_t *c, int index)
{
    return index < 2 ? (odc_dest_type_t)index : (odc_dest_type_t)c->destinations[index - 2].type;
}

static bool
s_listed (char *const *list, size_t n, const char *word)
{
    if (!n)
        return true;
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcmp (list[i], word))
            return true;
    return false;
}

static bool
s_pattern (char *const *list, size_t n, const char *text)
{
    if (!n)
        return true;
    if (!text)
        return false;
    for (size_t i = 0; i < n; i++)
        if (list[i] && fnmatch (list[i], text, FNM_CASEFOLD) == 0)
            return true;
    return false;
}

bool
odc_route_rule_matches (const odc_route_rule_t *r, const odc_triaged_t *a,
                        const odc_route_device_t *d)
{
    if (!s_listed (r->categories, r->category_count, a->category) ||
        !s_listed (r->codes, r->code_count, a->code) ||
        !s_listed (r->severities, r->severity_count, a->severity))
        return false;
    if ((r->hours == 1 && !d->in_hours) || (r->hours == 2 && d->in_hours))
        return false;
    if (r->address_count) {
        bool in = false;
        for (size_t i = 0; i < r->address_count && !in; i++)
            in = d->address && r->addresses[i] &&
                 odc_config_range_holds (r->addresses[i], d->address);
        if (!in)
            return false;
    }
    return s_pattern (r->locations, r->location_count, d->location) &&
           s_pattern (r->assets, r->asset_count, d->asset_number);
}

uint32_t
odc_route_match (const odc_config_t *c, const odc_triaged_t *a, const odc_route_device_t *d)
{
    if (!c->rule_count)
        return 1u << ODC_ROUTE_PORTAL;
    uint32_t mask = 0;
    for (size_t i = 0; i < c->rule_count; i++) {
        const odc_route_rule_t *r = &c->rules[i];
        if (!odc_route_rule_matches (r, a, d))
            continue;
        for (size_t k = 0; k < r->to_count; k++) {
            int index = r->to[k] ? odc_route_index (c, r->to[k]) : -1;
            if (index >= 0 && index < ODC_DESTINATIONS_MAX)
                mask |= 1u << index;
        }
    }
    return mask;
}

bool
odc_route_needs_device (const odc_config_t *c)
{
    for (size_t i = 0; i < c->rule_count; i++)
        if (c->rules[i].location_count || c->rules[i].asset_count)
            return true;
    return false;
}

bool
odc_route_repeat_ok (const odc_config_t *c, int index, odc_device_alerts_t *state,
                     const char *category, uint64_t now_ms)
{
    if (index < 2 || c->destinations[index - 2].every_minutes <= 0)
        return true;
    const char *name = odc_route_name (c, index);
    uint64_t every = (uint64_t)c->destinations[index - 2].every_minutes * 60000;
    odc_triage_sent_t *slot = NULL, *oldest = NULL;
    for (size_t i = 0; i < state->n_sent; i++) {
        odc_triage_sent_t *t = &state->sent[i];
        if (!strcmp (t->destination, name) && !strcmp (t->category, category))
            slot = t;
        if (!oldest || t->at_ms < oldest->at_ms)
            oldest = t;
    }
    if (slot && now_ms < slot->at_ms + every)
        return false;
    if (!slot)
        slot = state->n_sent < ODC_TRIAGE_SENT_MAX ? &state->sent[state->n_sent++] : oldest;
    snprintf (slot->destination, sizeof slot->destination, "%s", name);
    snprintf (slot->category, sizeof slot->category, "%s", category);
    slot->at_ms = now_ms;
    return true;
}

uint32_t
odc_route_sent (const odc_config_t *c, const char *sent_to)
{
    uint32_t mask = 0;
    char name[128];
    for (const char *p = sent_to; p && *p;) {
        size_t n = strcspn (p, ",");
        if (n < sizeof name) {
            memcpy (name, p, n);
            name[n] = 0;
            int index = odc_route_index (c, name);
            if (index >= 0 && index < ODC_DESTINATIONS_MAX)
                mask |= 1u << index;
        }
        p += n + (p[n] == ',');
    }
    return mask;
}

void
odc_route_sent_to (const odc_config_t *c, uint32_t mask, char *out, size_t size)
{
    size_t used = 0;
    out[0] = 0;
    for (int i = 0; i < odc_route_count (c) && i < ODC_DESTINATIONS_MAX; i++) {
        if (!(mask & (1u << i)))
            continue;
        const char *name = odc_route_name (c, i);
        size_t n = strlen (name);
        if (used + n + 2 > size)
            break; /* names are cut, never half written */
        used += (size_t)snprintf (out + used, size - used, "%s%s", used ? "," : "", name);
    }
}
