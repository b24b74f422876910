/*  odc_xml: see odc_xml.h. */
#include "odc_xml.h"

#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "odc_bus.h"
#include "odc_read.h"
#include "odc_text.h"

/*  Records nest header > raw varbind: three levels below the record. */
#define S_DEPTH_MAX 4
/*  Attributes on one element: every field of the largest message, and room
    for a newer collector's (unknown ones are skipped). */
#define S_ATTRS_MAX 256

static void *
s_error (char **err, const char *format, ...)
{
    if (err && !*err) {
        va_list ap;
        va_start (ap, format);
        if (vasprintf (err, format, ap) < 0)
            *err = NULL;
        va_end (ap);
    }
    return NULL;
}

const char *
odc_xml_kind (const Odc__Envelope *env)
{
    int k = env ? odc_kind_of_body (env->body_case) : -1;
    return k < 0 ? NULL : odc_kinds[k].kind;
}

/* ------------------------------------------------------------------------
   Text */

/*  Length of the valid UTF-8 sequence at s (at most n bytes) that XML 1.0
    allows, 0 when there is none. Valid UTF-8 is odc_utf8_char's (the one
    test every writer uses); on top, XML's own rules. */
static size_t
s_utf8 (const unsigned char *s, size_t n)
{
    uint32_t cp = 0;
    size_t len = odc_utf8_char (s, n, &cp);
    if (!len)
        return 0;
    if (cp < 0x80)
        return cp >= 0x20 && cp != 0x7f && cp != '\\' ? 1 : 0;
    if (cp == 0xfffe || cp == 0xffff)
        return 0; /* non-characters XML forbids */
    if (cp >= 0x80 && cp <= 0x9f)
        return 0; /* C1 controls: allowed by XML, unreadable everywhere */
    return len;
}

char *
odc_xml_clean (const char *text, size_t len)
{
    char *out = malloc (len * 4 + 1), *o = out;
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t n = s_utf8 (s + i, len - i);
        if (n) {
            memcpy (o, s + i, n);
            o += n;
            i += n;
        }
        else if (s[i] == '\\') {
            *o++ = '\\';
            *o++ = '\\';
            i++;
        }
        else {
            o += sprintf (o, "\\x%02x", s[i]);
            i++;
        }
    }
    *o = 0;
    return out;
}

static int
s_hex (int c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

char *
odc_xml_unclean (const char *text, size_t *len)
{
    size_t n = strlen (text);
    char *out = malloc (n + 1), *o = out;
    for (size_t i = 0; i < n; i++) {
        if (text[i] != '\\') {
            *o++ = text[i];
            continue;
        }
        if (text[i + 1] == '\\') {
            *o++ = '\\';
            i++;
        }
        else if (text[i + 1] == 'x' && s_hex (text[i + 2]) >= 0 && s_hex (text[i + 3]) >= 0) {
            *o++ = (char)(s_hex (text[i + 2]) << 4 | s_hex (text[i + 3]));
            i += 3;
        }
        else {
            free (out);
            return NULL;
        }
    }
    *o = 0;
    if (len)
        *len = (size_t)(o - out);
    return out;
}

/* ------------------------------------------------------------------------
   Message to element */

/*  A scalar as text, NULL when it has its default value. */
static char *
s_format (const ProtobufCFieldDescriptor *f, const void *member)
{
    char buf[32];
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        if (!*(const int32_t *)member)
            return NULL;
        snprintf (buf, sizeof buf, "%" PRId32, *(const int32_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if (!*(const uint32_t *)member)
            return NULL;
        snprintf (buf, sizeof buf, "%" PRIu32, *(const uint32_t *)member);
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (!*(const int64_t *)member)
            return NULL;
        snprintf (buf, sizeof buf, "%" PRId64, *(const int64_t *)member);
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (!*(const uint64_t *)member)
            return NULL;
        snprintf (buf, sizeof buf, "%" PRIu64, *(const uint64_t *)member);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        if (!*(const protobuf_c_boolean *)member)
            return NULL;
        snprintf (buf, sizeof buf, "true");
        break;
    case PROTOBUF_C_TYPE_FLOAT:
        if (*(const float *)member == 0)
            return NULL;
        snprintf (buf, sizeof buf, "%.9g", *(const float *)member);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        if (*(const double *)member == 0)
            return NULL;
        /*  15 digits: what a decimal the collector rounded to reads back
            as (13.3, not 13.300000000000001). */
        snprintf (buf, sizeof buf, "%.15g", *(const double *)member);
        break;
    case PROTOBUF_C_TYPE_STRING: {
        const char *text = *(const char *const *)member;
        return text && *text ? odc_xml_clean (text, strlen (text)) : NULL;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = member;
        if (!b->len)
            return NULL;
        char *hex = malloc (b->len * 2 + 1);
        for (size_t i = 0; i < b->len; i++)
            sprintf (hex + i * 2, "%02x", b->data[i]);
        return hex;
    }
    default: return NULL;
    }
    return strdup (buf);
}

static xmpp_stanza_t *s_element (xmpp_ctx_t *ctx, const char *name, const ProtobufCMessage *m);

typedef struct {
    xmpp_ctx_t *ctx;
    xmpp_stanza_t *el;
} s_build_t;

/*  One field into the element: a message as a child, a scalar as an
    attribute, an item of repeated scalars as a child with the value in v. */
static void
s_element_field (const ProtobufCFieldDescriptor *f, const void *member, long index, void *arg)
{
    s_build_t *b = arg;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        xmpp_stanza_add_child_ex (
            b->el, s_element (b->ctx, f->name, *(const ProtobufCMessage *const *)member), 0);
        return;
    }
    char *text = s_format (f, member);
    if (index >= 0) {
        xmpp_stanza_t *child = xmpp_stanza_new (b->ctx);
        xmpp_stanza_set_name (child, f->name);
        xmpp_stanza_set_attribute (child, "v", text ? text : "");
        xmpp_stanza_add_child_ex (b->el, child, 0);
    }
    else if (text)
        xmpp_stanza_set_attribute (b->el, f->name, text);
    free (text);
}

static xmpp_stanza_t *
s_element (xmpp_ctx_t *ctx, const char *name, const ProtobufCMessage *m)
{
    s_build_t b = {ctx, xmpp_stanza_new (ctx)};
    xmpp_stanza_set_name (b.el, name);
    odc_pb_each_field (m, s_element_field, &b);
    return b.el;
}

xmpp_stanza_t *
odc_xml_record (xmpp_ctx_t *ctx, const Odc__Envelope *env)
{
    const char *kind = odc_xml_kind (env);
    const ProtobufCMessage *body = kind ? odc_bus_body (env) : NULL;
    return body ? s_element (ctx, kind, body) : NULL;
}

/* ------------------------------------------------------------------------
   Element to message */

static bool
s_parse (const ProtobufCFieldDescriptor *f, const char *text, void *member)
{
    char *end = NULL;
    errno = 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM: {
        long long v = strtoll (text, &end, 10);
        if (v < INT32_MIN || v > INT32_MAX)
            return false;
        *(int32_t *)member = (int32_t)v;
        break;
    }
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: {
        if (*text == '-')
            return false;
        unsigned long long v = strtoull (text, &end, 10);
        if (v > UINT32_MAX)
            return false;
        *(uint32_t *)member = (uint32_t)v;
        break;
    }
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: *(int64_t *)member = strtoll (text, &end, 10); break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (*text == '-')
            return false;
        *(uint64_t *)member = strtoull (text, &end, 10);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        if (strcmp (text, "true") && strcmp (text, "false"))
            return false;
        *(protobuf_c_boolean *)member = !strcmp (text, "true");
        return true;
    case PROTOBUF_C_TYPE_FLOAT: *(float *)member = strtof (text, &end); break;
    case PROTOBUF_C_TYPE_DOUBLE: *(double *)member = strtod (text, &end); break;
    case PROTOBUF_C_TYPE_STRING: {
        char *value = odc_xml_unclean (text, NULL);
        if (!value)
            return false;
        char **slot = member;
        if (*slot && *slot != (char *)f->default_value)
            free (*slot);
        *slot = value;
        return true;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        size_t n = strlen (text);
        if (n % 2)
            return false;
        ProtobufCBinaryData *b = member;
        uint8_t *data = malloc (n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
            int hi = s_hex (text[2 * i]), lo = s_hex (text[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                free (data);
                return false;
            }
            data[i] = (uint8_t)(hi << 4 | lo);
        }
        free (b->data);
        b->data = data;
        b->len = n / 2;
        return true;
    }
    default: return false;
    }
    return end && end != text && !*end && errno == 0;
}

static void *
s_append (const ProtobufCFieldDescriptor *f, char *base)
{
    size_t *n = (size_t *)(base + f->quantifier_offset);
    char **items = (char **)(base + f->offset);
    size_t size = odc_pb_item_size (f);
    char *grown = realloc (*items, (*n + 1) * size);
    if (!grown)
        return NULL;
    *items = grown;
    void *item = grown + *n * size;
    memset (item, 0, size);
    (*n)++;
    return item;
}

static ProtobufCMessage *
s_message (xmpp_stanza_t *el, const ProtobufCMessageDescriptor *d, int depth, char **err)
{
    if (depth > S_DEPTH_MAX)
        return s_error (err, "<%s> nested deeper than the schema allows",
                        xmpp_stanza_get_name (el));
    ProtobufCMessage *m = calloc (1, d->sizeof_message);
    protobuf_c_message_init (d, m);
    char *base = (char *)m;
    /*  Every attribute is read (a fixed array used to drop those past 64
        without a word); more than any record has is refused. */
    int n_attrs = xmpp_stanza_get_attribute_count (el);
    if (n_attrs > S_ATTRS_MAX) {
        s_error (err, "<%s> has %d attributes, more than the %d a record may have",
                 xmpp_stanza_get_name (el), n_attrs, S_ATTRS_MAX);
        goto fail;
    }
    const char *attrs[2 * S_ATTRS_MAX];
    n_attrs = xmpp_stanza_get_attributes (el, attrs, 2 * S_ATTRS_MAX);
    for (int i = 0; i + 1 < n_attrs; i += 2) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (d, attrs[i]);
        if (!f || f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE)
            continue; /* xmlns, or a field of a newer collector */
        if (!s_parse (f, attrs[i + 1], base + f->offset)) {
            s_error (err, "<%s %s='%.40s'>: not a valid %s", xmpp_stanza_get_name (el), attrs[i],
                     attrs[i + 1], f->name);
            goto fail;
        }
    }
    for (xmpp_stanza_t *c = xmpp_stanza_get_children (el); c; c = xmpp_stanza_get_next (c)) {
        if (!xmpp_stanza_is_tag (c))
            continue;
        const char *name = xmpp_stanza_get_name (c);
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name (d, name);
        if (!f || (f->type != PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED)) {
            s_error (err, "<%s> has no child <%.40s>", xmpp_stanza_get_name (el), name);
            goto fail;
        }
        if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
            ProtobufCMessage *sub = s_message (c, f->descriptor, depth + 1, err);
            if (!sub)
                goto fail;
            void **slot = f->label == PROTOBUF_C_LABEL_REPEATED ? s_append (f, base)
                                                                : (void **)(base + f->offset);
            if (!slot || *slot) {
                protobuf_c_message_free_unpacked (sub, NULL);
                s_error (err, "<%s> has more than one <%s>", xmpp_stanza_get_name (el), name);
                goto fail;
            }
            *slot = sub;
        }
        else {
            const char *v = xmpp_stanza_get_attribute (c, "v");
            void *item = s_append (f, base);
            if (f->type == PROTOBUF_C_TYPE_STRING && item)
                *(char **)item = strdup ("");
            if (!item || !v || !s_parse (f, v, item)) {
                s_error (err, "<%s v='%.40s'>: not a valid %s", name, v ? v : "", f->name);
                goto fail;
            }
        }
    }
    return m;
fail:
    protobuf_c_message_free_unpacked (m, NULL);
    return NULL;
}

Odc__Envelope *
odc_xml_envelope (const xmpp_stanza_t *record, char **err)
{
    const char *name = xmpp_stanza_get_name ((xmpp_stanza_t *)record);
    int k = odc_kind_of_name (name);
    if (k >= 0) {
        ProtobufCMessage *body =
            s_message ((xmpp_stanza_t *)record, odc_kinds[k].descriptor, 0, err);
        if (!body)
            return NULL;
        Odc__Envelope *env = malloc (sizeof *env);
        odc__envelope__init (env);
        env->version = ODC_ENVELOPE_VERSION;
        env->body_case = odc_kinds[k].body;
        /*  The body members share one union: any of them holds it. */
        env->identity = (Odc__IdentityReading *)body;
        return env;
    }
    return s_error (err, "<%.40s> is not a record (asset, alert, meters, supply, tray, event)",
                    name ? name : "(text)");
}

/* ------------------------------------------------------------------------
   Batches */

/*  The XML text of every record of the batch, one after the other; each
    record element also goes into holder when one is given (built once,
    whether it is sent as it is or only measured and deflated). */
static char *
s_records_text (xmpp_ctx_t *ctx, const Odc__Batch *batch, xmpp_stanza_t *holder, size_t *len,
                char **err)
{
    size_t cap = 4096, used = 0;
    char *all = malloc (cap);
    for (size_t i = 0; i < batch->n_items; i++) {
        xmpp_stanza_t *el = odc_xml_record (ctx, batch->items[i]);
        char *text = NULL;
        size_t n = 0;
        if (!el || xmpp_stanza_to_text (el, &text, &n) != XMPP_EOK) {
            /*  Never left out quietly: the whole batch fails, and the
                caller sets the reading aside with this reason. */
            s_error (err, "reading %zu of %zu (%s) cannot be written as XML: %s", i + 1,
                     batch->n_items, odc_xml_kind (batch->items[i]) ?: "no reading",
                     el ? "libstrophe could not serialise it" : "not a kind the portal knows");
            if (el)
                xmpp_stanza_release (el);
            free (all);
            return NULL;
        }
        if (used + n + 1 > cap) {
            while (used + n + 1 > cap)
                cap *= 2;
            all = realloc (all, cap);
        }
        memcpy (all + used, text, n);
        used += n;
        xmpp_free (ctx, text);
        if (holder)
            xmpp_stanza_add_child_ex (holder, el, 0);
        else
            xmpp_stanza_release (el);
    }
    all[used] = 0;
    *len = used;
    return all;
}

xmpp_stanza_t *
odc_xml_batch (xmpp_ctx_t *ctx, const Odc__OutboxRecord *record, bool compress, size_t *plain,
               size_t *wire, char **err)
{
    Odc__Batch *batch = odc__batch__unpack (NULL, record->payload.len, record->payload.data);
    if (!batch)
        return s_error (err, "its %zu bytes do not unpack as a batch", record->payload.len);
    xmpp_stanza_t *el = xmpp_stanza_new (ctx);
    xmpp_stanza_set_name (el, "batch");
    xmpp_stanza_set_ns (el, ODC_XML_NS);
    xmpp_stanza_set_attribute (el, "kind", record->kind);
    char num[24];
    snprintf (num, sizeof num, "%" PRIu64, record->seq);
    xmpp_stanza_set_attribute (el, "seq", num);
    snprintf (num, sizeof num, "%zu", batch->n_items);
    xmpp_stanza_set_attribute (el, "count", num);
    snprintf (num, sizeof num, "%" PRIu64, record->created_ms);
    xmpp_stanza_set_attribute (el, "created", num);
    size_t len = 0;
    char *text = s_records_text (ctx, batch, compress ? NULL : el, &len, err);
    if (!text) {
        xmpp_stanza_release (el);
        odc__batch__free_unpacked (batch, NULL);
        return NULL;
    }
    *plain = *wire = len;
    if (compress) {
        uLongf zlen = compressBound (len);
        unsigned char *z = malloc (zlen);
        if (compress2 (z, &zlen, (const Bytef *)text, len, Z_BEST_COMPRESSION) == Z_OK) {
            char *b64 = malloc (4 * ((zlen + 2) / 3) + 1);
            int n = EVP_EncodeBlock ((unsigned char *)b64, z, (int)zlen);
            xmpp_stanza_set_attribute (el, "encoding", "deflate");
            xmpp_stanza_t *t = xmpp_stanza_new (ctx);
            xmpp_stanza_set_text_with_size (t, b64, (size_t)n);
            xmpp_stanza_add_child_ex (el, t, 0);
            *wire = (size_t)n;
            free (b64);
        }
        else /* out of memory in zlib: send it as it is */
            free (s_records_text (ctx, batch, el, &len, NULL));
        free (z);
    }
    free (text);
    odc__batch__free_unpacked (batch, NULL);
    return el;
}

/*  Inflate at most ODC_XML_INFLATE_MAX bytes (a small bomb stays small). */
static char *
s_inflate (const unsigned char *z, size_t zlen, size_t *len, char **err)
{
    z_stream s = {0};
    if (inflateInit (&s) != Z_OK)
        return s_error (err, "zlib: cannot start");
    size_t cap = zlen * 4 + 1024, used = 0;
    char *out = malloc (cap + 1);
    s.next_in = (Bytef *)z;
    s.avail_in = (uInt)zlen;
    int rc = Z_OK;
    while (rc == Z_OK) {
        if (used == cap) {
            if (cap >= ODC_XML_INFLATE_MAX) {
                inflateEnd (&s);
                free (out);
                return s_error (err, "the batch inflates past %u bytes", ODC_XML_INFLATE_MAX);
            }
            cap = cap * 2 > ODC_XML_INFLATE_MAX ? ODC_XML_INFLATE_MAX : cap * 2;
            out = realloc (out, cap + 1);
        }
        s.next_out = (Bytef *)out + used;
        s.avail_out = (uInt)(cap - used);
        rc = inflate (&s, Z_NO_FLUSH);
        used = cap - s.avail_out;
    }
    inflateEnd (&s);
    if (rc != Z_STREAM_END) {
        free (out);
        return s_error (err, "the batch's deflate data is damaged (zlib %d)", rc);
    }
    out[used] = 0;
    *len = used;
    return out;
}

long
odc_xml_batch_items (xmpp_ctx_t *ctx, const xmpp_stanza_t *batch, Odc__Envelope ***items,
                     char **err)
{
    xmpp_stanza_t *el = (xmpp_stanza_t *)batch, *holder = NULL;
    *items = NULL;
    const char *ns = xmpp_stanza_get_ns (el);
    if (!ns || strcmp (ns, ODC_XML_NS) || strcmp (xmpp_stanza_get_name (el), "batch")) {
        s_error (err, "not a <batch xmlns='%s'>", ODC_XML_NS);
        return -1;
    }
    const char *encoding = xmpp_stanza_get_attribute (el, "encoding");
    if (encoding && strcmp (encoding, "deflate")) {
        s_error (err, "unknown encoding '%.40s'", encoding);
        return -1;
    }
    if (encoding) {
        char *b64 = xmpp_stanza_get_text (el);
        size_t n = b64 ? strlen (b64) : 0;
        unsigned char *z = malloc (n / 4 * 3 + 3);
        int zlen = n && n % 4 == 0 ? EVP_DecodeBlock (z, (unsigned char *)b64, (int)n) : -1;
        if (zlen >= 0)
            zlen -= (n > 0 && b64[n - 1] == '=') + (n > 1 && b64[n - 2] == '=');
        if (b64)
            xmpp_free (ctx, b64);
        if (zlen < 0) {
            free (z);
            s_error (err, "the batch's text is not base64");
            return -1;
        }
        size_t len = 0;
        char *xml = s_inflate (z, (size_t)zlen, &len, err);
        free (z);
        if (!xml)
            return -1;
        char *wrapped = malloc (len + 8);
        memcpy (wrapped, "<r>", 3);
        memcpy (wrapped + 3, xml, len);
        memcpy (wrapped + 3 + len, "</r>", 5);
        free (xml);
        holder = xmpp_stanza_new_from_string (ctx, wrapped);
        free (wrapped);
        if (!holder) {
            s_error (err, "the batch's inflated records are not well-formed XML");
            return -1;
        }
        el = holder;
    }
    long count = 0, cap = 0;
    for (xmpp_stanza_t *c = xmpp_stanza_get_children (el); c; c = xmpp_stanza_get_next (c)) {
        if (!xmpp_stanza_is_tag (c))
            continue;
        if (count >= ODC_XML_BATCH_MAX_ITEMS) {
            s_error (err, "more than %d records in one batch", ODC_XML_BATCH_MAX_ITEMS);
            goto fail;
        }
        Odc__Envelope *env = odc_xml_envelope (c, err);
        if (!env)
            goto fail;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            *items = realloc (*items, (size_t)cap * sizeof **items);
        }
        (*items)[count++] = env;
    }
    if (holder)
        xmpp_stanza_release (holder);
    return count;
fail:
    if (holder)
        xmpp_stanza_release (holder);
    odc_xml_items_free (*items, count);
    *items = NULL;
    return -1;
}

void
odc_xml_items_free (Odc__Envelope **items, long count)
{
    for (long i = 0; i < count; i++)
        odc__envelope__free_unpacked (items[i], NULL);
    free (items);
}
