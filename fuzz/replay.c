/* Replays a fuzz corpus without libFuzzer: every file under the given folders (or the files
 * given) goes through LLVMFuzzerTestOneInput once. Run under ASan in `make check`. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = NULL;
    long n;
    if (!f)
        return perror(path), 1;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    data = malloc(n > 0 ? (size_t)n : 1);
    if (!data || (n > 0 && fread(data, 1, (size_t)n, f) != (size_t)n)) {
        fclose(f);
        free(data);
        return fprintf(stderr, "%s: read failed\n", path), 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(data, (size_t)n);
    free(data);
    return 0;
}

static int run(const char *path, int *count)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        /* Optional extra corpora (peer fixtures) may be absent: say so, do not fail. */
        fprintf(stderr, "replay: skipping %s (absent)\n", path);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0;
    if (!d)
        return perror(path), 1;
    while ((e = readdir(d))) {
        char sub[4096];
        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        rc |= run(sub, count);
    }
    closedir(d);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0, count = 0, present = 0;
    struct stat st;
    for (int i = 1; i < argc; i++) {
        present += stat(argv[i], &st) == 0;
        rc |= run(argv[i], &count);
    }
    if (!present) {
        /* only optional corpora were named (the peers' fixtures), and none is here: ctest's
         * SKIP_RETURN_CODE */
        printf("skip: no corpus present (a clone without ../shared)\n");
        return 77;
    }
    printf("replayed %d inputs\n", count);
    return rc || count == 0;
}
