/* -o yaml: the JSON document a command rendered, re-emitted as YAML with libyaml's emitter, so
 * both formats carry exactly the same data (kubectl's -o yaml habit). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <yaml.h>

#include "cli.h"

/* Strings that a YAML 1.1 reader would take for another type must be quoted. */
static int needs_quotes(const char *s, size_t n)
{
    static const char *const words[] = {"true", "false", "yes", "no",   "on",    "off", "y",
                                        "n",    "null",  "~",   ".inf", "-.inf", ".nan"};
    size_t i = 0;
    if (!n)
        return 1;
    for (size_t w = 0; w < sizeof words / sizeof words[0]; w++)
        if (strlen(words[w]) == n && !strncasecmp(s, words[w], n))
            return 1;
    if (s[0] == '+' || s[0] == '-' || s[0] == '.')
        i = 1;
    if (i < n && s[i] >= '0' && s[i] <= '9')
        return 1; /* a number, a date, a version such as 1.25: keep it a string */
    return 0;
}

static int scalar(yaml_emitter_t *e, const char *s, size_t n, int is_string)
{
    yaml_event_t ev;
    int quoted = is_string && needs_quotes(s, n);
    /* implicit both ways: no tags in the output; a string that would read as another type is
     * double-quoted, any other the emitter may quote as its syntax needs ("-", ": ") */
    yaml_scalar_event_initialize(&ev, NULL, (yaml_char_t *)YAML_STR_TAG, (yaml_char_t *)s, (int)n,
                                 1, 1,
                                 quoted ? YAML_DOUBLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
    return yaml_emitter_emit(e, &ev);
}

static int node(yaml_emitter_t *e, json_t *j, int depth)
{
    yaml_event_t ev;
    char num[64];
    if (depth > 1000)
        return 0;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        yaml_mapping_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_MAP_TAG, 1,
                                            YAML_BLOCK_MAPPING_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        json_object_foreach(j, k, v)
        {
            if (!scalar(e, k, strlen(k), 1) || !node(e, v, depth + 1))
                return 0;
        }
        yaml_mapping_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;
        yaml_sequence_start_event_initialize(&ev, NULL, (yaml_char_t *)YAML_SEQ_TAG, 1,
                                             YAML_BLOCK_SEQUENCE_STYLE);
        if (!yaml_emitter_emit(e, &ev))
            return 0;
        json_array_foreach(j, i, v)
        {
            if (!node(e, v, depth + 1))
                return 0;
        }
        yaml_sequence_end_event_initialize(&ev);
        return yaml_emitter_emit(e, &ev);
    }
    case JSON_STRING:
        return scalar(e, json_string_value(j), json_string_length(j), 1);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
        return scalar(e, num, strlen(num), 0);
    case JSON_REAL:
        snprintf(num, sizeof num, "%.17g", json_real_value(j));
        return scalar(e, num, strlen(num), 0);
    case JSON_TRUE:
        return scalar(e, "true", 4, 0);
    case JSON_FALSE:
        return scalar(e, "false", 5, 0);
    default:
        return scalar(e, "null", 4, 0);
    }
}

static int write_out(void *ud, unsigned char *buf, size_t n)
{
    return fwrite(buf, 1, n, ud) == n;
}

int cli_yaml_emit(FILE *out, const char *json, size_t len)
{
    json_t *j = json_loadb(json, len, JSON_DECODE_ANY, NULL);
    yaml_emitter_t e;
    yaml_event_t ev;
    int ok;
    if (!j)
        return -1;
    if (!yaml_emitter_initialize(&e)) {
        json_decref(j);
        return -1;
    }
    yaml_emitter_set_output(&e, write_out, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1);
    yaml_emitter_set_indent(&e, 2);
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ok = yaml_emitter_emit(&e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ok = ok && yaml_emitter_emit(&e, &ev) && node(&e, j, 0);
    yaml_document_end_event_initialize(&ev, 1);
    ok = ok && yaml_emitter_emit(&e, &ev);
    yaml_stream_end_event_initialize(&ev);
    ok = ok && yaml_emitter_emit(&e, &ev) && yaml_emitter_flush(&e);
    yaml_emitter_delete(&e);
    json_decref(j);
    return ok ? 0 : -1;
}
