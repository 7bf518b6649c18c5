/* Helm release records, v2 (Tiller) and v3, in every storage Helm used: v3 Secrets (type
 * helm.sh/release.v1) and ConfigMaps, v2 Tiller ConfigMaps and Secrets, gzip'd or not (legacy
 * records have no gzip magic). Decoding is bounded (decompressed size, protobuf nesting) and
 * never trusts a length. A source, not a judge: KV405 is decided by the check module from the
 * facts gathered here (vet_helm_facts). */
#ifndef KUBEVET_HELM_H
#define KUBEVET_HELM_H

#include <jansson.h>
#include <stddef.h>

#include "kubevet/plan.h"
#include "strv.h"

struct vet_k8s;
struct vet_catalog;
struct vet_manifest_scan;

/* Decompressed release bodies larger than this are refused (VET_ELIMIT). */
#define VET_HELM_MAX_RELEASE (64u << 20)

typedef enum { VET_HELM_SECRET = 0, VET_HELM_CONFIGMAP = 1 } vet_helm_driver;

typedef struct {
    char *name;     /* "pre-install-job" (may be "") */
    char *path;     /* chart path of the template (may be "") */
    char *manifest; /* may be "" */
} vet_helm_hook;

/* One decoded release record (one revision). */
typedef struct {
    int helm;        /* 2 or 3 */
    char *name;      /* release name */
    char *namespace; /* the release's namespace (where its objects go) */
    int revision;    /* version */
    char *status;    /* lower case, Helm 3 spelling: deployed, superseded, pending-upgrade... */
    char *description;
    char *manifest; /* the rendered manifest ("" when none) */
    size_t manifest_len;
    vet_helm_hook *hooks;
    size_t nhooks;
} vet_helm_release;

void vet_helm_release_free(vet_helm_release *r);

/* Unpack a `release` value as the storage holds it: base64 text (whitespace ignored), then gunzip
 * when the bytes start with the gzip magic 1f 8b 08 (else taken as is: legacy uncompressed).
 * `text` is the value after the API's own Secret base64 has been removed (i.e. the ConfigMap
 * value, or the decoded Secret value, or the bytes etcd stores). *out is malloc'd, NUL-terminated
 * (len excludes it). VET_EINPUT (bad base64/gzip, with the offset), VET_ELIMIT (over `cap`,
 * 0 = VET_HELM_MAX_RELEASE). */
int vet_helm_unpack(unsigned char **out, size_t *len, const char *text, size_t text_len,
                    size_t cap);

/* Decode a Helm 3 release (JSON) / a Helm 2 release (protobuf hapi.release.Release). The v2
 * status code is mapped to the Helm 3 spelling ("DEPLOYED" -> "deployed", "PENDING_UPGRADE" ->
 * "pending-upgrade"). VET_EINPUT with the byte offset for malformed input. */
int vet_helm_decode_v3(vet_helm_release **out, const unsigned char *data, size_t len);
int vet_helm_decode_v2(vet_helm_release **out, const unsigned char *data, size_t len);

/* Decode a whole record as the API returns it (a Secret or ConfigMap JSON object, as LIST items
 * or GET give it): tells v2 from v3 by the labels (OWNER=TILLER vs owner=helm), removes the
 * Secret's base64, unpacks and decodes. VET_ENOTFOUND when the object is not a Helm record. */
int vet_helm_decode_object(vet_helm_release **out, const json_t *obj);

/* ---- the releases of a cluster (or of a snapshot): facts for KV405 ---- */

/* One release: its revisions' statuses (from the record labels) and, decoded, the revision Helm
 * acts on (the highest `deployed` one). */
typedef struct {
    int helm;        /* 2 or 3 */
    char *name;      /* release name */
    char *namespace; /* release namespace (v2: from the decoded record; else the Tiller ns) */
    char *storage_ns;
    vet_helm_driver driver;
    int acted_on;        /* revision Helm acts on (highest deployed), 0 = none deployed */
    int latest;          /* highest revision stored */
    char *latest_status; /* its status */
    int ndeployed;       /* records marked deployed (Helm expects exactly 1) */
    vet_strv notes;      /* "several revisions are marked deployed (3, 5)", stuck pending... */
    char *encrypted;     /* snapshot: the acted-on record is encrypted at rest (provider) */
    char *error;         /* the acted-on record could not be decoded: why */
    struct vet_manifest_scan *scan; /* manifest + hooks of the acted-on revision, or NULL
                                     * (also NULL when opts.target found nothing to report) */
    size_t manifest_bytes;
} vet_helm_rel;

typedef struct vet_helm_facts {
    vet_helm_rel *rels; /* sorted by helm version, namespace, name */
    size_t nrels;
    size_t records;  /* records seen */
    size_t decoded;  /* records decoded */
    vet_strv errors; /* lists that failed ("secrets in kube-system: forbidden") */
} vet_helm_facts;

typedef struct {
    const char *ns;        /* release namespace; NULL = all namespaces */
    const char *tiller_ns; /* NULL = "kube-system" */
    const struct vet_catalog *catalog;
    int v2, v3; /* which Helm versions to look for (both 0 = both) */
    /* Kubernetes version (NULL: keep every scan). With it, a release whose objects are all
     * served at the target with valid selectors keeps no scan (scan NULL): memory then grows
     * only with the releases that need attention. */
    const char *target;
} vet_helm_opts;

/* List every Helm record through the API (label selectors owner=helm / OWNER=TILLER, paginated,
 * decoded page by page: only the records marked deployed are decoded, and only the manifest facts
 * the API checks need are kept, so memory grows with the number of releases, not their size).
 * A failing list (forbidden) is recorded in errors; only out-of-memory fails the call. */
int vet_helm_gather_api(vet_helm_facts **out, struct vet_k8s *c, const vet_helm_opts *o);

/* The same from an etcd snapshot file (Secrets and ConfigMaps stored as Kubernetes protobuf).
 * Records encrypted at rest are listed with `encrypted` set. VET_EIO/VET_EINPUT for a file that
 * cannot be read as a snapshot. */
int vet_helm_gather_snapshot(vet_helm_facts **out, const char *path, const vet_helm_opts *o);

void vet_helm_facts_free(vet_helm_facts *f);

/* ---- helm map: rewrite the deployed revision to APIs the target serves ---- */

#define VET_HELM_MAP_DESCRIPTION                                                                   \
    "Kubernetes deprecated API upgrade - DO NOT rollback from this version"

typedef struct {
    const char *release;   /* release name */
    const char *ns;        /* release namespace (v3 storage namespace; v2 filter) */
    const char *tiller_ns; /* NULL = kube-system */
    const char *target;    /* Kubernetes version */
    const struct vet_catalog *catalog;
    int force; /* map even when the converter says a person must decide */
} vet_helm_map_opts;

/* What mapping one release would do (computed without writing anything). */
typedef struct {
    int helm;
    char *release, *ns, *storage_ns;
    vet_helm_driver driver;
    int from_rev, to_rev; /* N (deployed now) and N+1 (to be written) */
    int changed;          /* the converter changed something */
    int blocked;          /* a person must decide (and not --force): nothing is written */
    vet_strv changes;     /* "manifest line 3: DaemonSet/x extensions/v1beta1 -> apps/v1 (...)" */
    vet_strv manual;      /* what a person must decide */
    char *old_text, *new_text; /* manifest + hooks before/after (for the diff) */
    json_t *originals;         /* every record of the release, as the API returned them */
    json_t *create;            /* the record of revision N+1 */
    json_t *supersede; /* array: record N, then every older record also marked deployed, with
                        * status superseded, each at its resourceVersion */
} vet_helm_map;

/* Read the release's records and compute the map. VET_ENOTFOUND when the release (or a deployed
 * revision of it) does not exist. */
int vet_helm_map_prepare(vet_helm_map **out, struct vet_k8s *c, const vet_helm_map_opts *o);
void vet_helm_map_free(vet_helm_map *m);
/* The revision of m->supersede's record i (N first, then the older ones still marked deployed):
 * what the map marks superseded. 0 past the end. */
int vet_helm_map_superseded(const vet_helm_map *m, size_t i);

/* The map as a plan for the one executor (vet_plan_render_text shows it as the dry run):
 * 1. write the original records to backup_path (0600; a file that exists already is refused;
 *    kept on rollback: it is helm restore's input), 2. create N+1, 3. update N and every older
 *    revision still marked deployed to superseded, at their resourceVersions.
 * VET_EUSAGE when the map has nothing to write (unchanged, or blocked). */
int vet_helm_map_plan(struct vet_plan **out, const vet_helm_map *m, const char *backup_path);

/* Apply that plan with the Kubernetes hooks, and after the create a check that reads N+1 back
 * and decodes it. Any failure after the create undoes what was done, newest first (N+1 is
 * deleted last), so the release never has zero or two deployed revisions; res says whether
 * undoing failed too (then helm restore with the backup file is the way back). */
int vet_helm_map_apply(struct vet_plan *p, const vet_helm_map *m, struct vet_k8s *c,
                       vet_plan_result *res);

/* Put the records saved in a backup file back: every saved record replaces the live one (or is
 * created), and records of the release that are not in the backup (revision N+1) are deleted.
 * apply 0 only describes (lines appended to `what`). */
int vet_helm_restore(struct vet_k8s *c, const char *backup_path, int apply, vet_strv *what);

/* "release NAME (namespace NS, revision N, helm v2|v3)"; malloc'd. */
char *vet_helm_subject(const vet_helm_rel *r);

#endif
