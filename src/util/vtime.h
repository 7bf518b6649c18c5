/* Time parsing and formatting. All times are int64 seconds since the Unix epoch, UTC. */
#ifndef VET_UTIL_VTIME_H
#define VET_UTIL_VTIME_H

#include <stdint.h>

/* RFC 3339 ("2026-11-22T12:00:00Z", offsets and fractions accepted) or "YYYY-MM-DD" (midnight UTC).
 */
int vet_time_parse(int64_t *out, const char *s);
/* "30d", "720h", "90m", "45s", combinations ("1d12h"), or a bare number of days. */
int vet_duration_parse(int64_t *out_seconds, const char *s);
/* Civil date -> epoch seconds, no libc time zone involved. */
int64_t vet_time_from_civil(int y, int mon, int d, int h, int mi, int s);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL) into out. */
void vet_time_format(char out[32], int64_t t);
/* Compact form for file names: "20261122T120000Z". */
void vet_time_format_compact(char out[32], int64_t t);
/* Whole days from now to t, truncated; a time already past is at least -1 (never "0 days left"). */
int64_t vet_time_days_between(int64_t now, int64_t t);

#endif
