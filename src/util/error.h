/* Error codes and the thread-local last-error message (libgit2 style).
 * Functions return 0 or a negative VET_E* code and leave a one-line message here. */
#ifndef VET_UTIL_ERROR_H
#define VET_UTIL_ERROR_H

enum {
    VET_OK = 0,
    VET_EUSAGE = -2, /* bad command line: exit 2 */
    VET_EINPUT = -3, /* input malformed: exit 3 */
    VET_EIO = -4,    /* input unreadable / write failed: exit 3 */
    VET_ENOMEM = -5,
    VET_ENOTFOUND = -6, /* optional input absent: usually not an error for the caller */
    VET_ENET = -7,      /* endpoint unreachable or protocol error: exit 3 */
    VET_ELIMIT = -8     /* input over a size cap */
};

#if defined(__GNUC__)
#define VET_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VET_PRINTF(a, b)
#endif

/* Set the message and return `code`, so callers can write `return vet_error_set(VET_EINPUT, ...)`.
 */
int vet_error_set(int code, const char *fmt, ...) VET_PRINTF(2, 3);
/* Prefix the current message with "prefix: " (e.g. the file name once it is known). */
void vet_error_prefix(const char *prefix);
/* The last message of this thread ("" when none). Valid until the next vet_error_* call. */
const char *vet_error_last(void);
void vet_error_clear(void);
/* Map a VET_E* code to the process exit code of the CLI contract (2 usage, 3 anything else). */
int vet_error_exit_code(int code);

#endif
