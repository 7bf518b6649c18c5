# Thin front over CMake. `make` builds build/kubevet; `make check` runs every test, then the
# whole suite again under ASan+UBSan (build-asan/). Both install missing Debian packages first.
BUILD ?= build
ASAN ?= build-asan
FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 20
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps build check check-fast demo bench install clean format fuzz deb deb-package

all: build

deps:
	@scripts/deps build

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

check:
	@scripts/deps test
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	@cmake -S . -B $(ASAN) -DKV_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(ASAN) -j$(JOBS)
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j$(JOBS)

# The suite once, without the sanitizer pass (for quick iterations).
check-fast: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The demo's output is the point: the build and the fixtures are quiet (their log is kept in
# $(BUILD)/demo.log and shown only when they fail).
demo:
	@mkdir -p $(BUILD)
	@echo "make demo: building kubevet and the demo nodes (log: $(BUILD)/demo.log) ..."
	@{ scripts/deps build && scripts/deps test && cmake -S . -B $(BUILD) $(CMAKE_FLAGS) && \
	   cmake --build $(BUILD) -j$(JOBS) && scripts/mkdemo.sh $(BUILD)/demo; } >$(BUILD)/demo.log 2>&1 || \
	   { tail -n 30 $(BUILD)/demo.log; exit 1; }
	@echo "$$ kubevet check --root $(BUILD)/demo/master-1"
	@$(BUILD)/kubevet check --root $(BUILD)/demo/master-1 --fail-on never

bench: build
	@scripts/deps test
	@for b in bench/bench_*.sh; do echo "== $$b"; KUBEVET=$(BUILD)/kubevet bash $$b || exit 1; done

# libFuzzer targets (clang; every library instrumented, ASan+UBSan), FUZZ_SECONDS each. New
# corpus entries and crashes land in $(FUZZ)/corpus-new and $(FUZZ)/artifacts, not in the repo.
fuzz: deps
	@CC=clang cmake -S . -B $(FUZZ) -DKV_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(FUZZ) -j$(JOBS) --target fuzzers >/dev/null
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# A Debian package of what `make install` puts under /usr (binary, kubectl-vet link, kubevet(1),
# bash/zsh/fish completions), built with dpkg-deb: $(BUILD)/kubevet_<version>_<arch>.deb.
DEB_VERSION ?= $(shell grep -o 'kubevet VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)
DEB_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
deb: build
	@$(MAKE) --no-print-directory deb-package BUILD=$(BUILD)

# The packaging step alone, from an existing build (tests/t_packaging.sh: no rebuild under ctest).
deb-package:
	@rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/DEBIAN
	@DESTDIR=$(abspath $(BUILD)/deb) cmake --install $(BUILD) --prefix /usr >/dev/null
	@gzip -9n $(BUILD)/deb/usr/share/man/man1/kubevet.1
	@ln -s kubevet.1.gz $(BUILD)/deb/usr/share/man/man1/kubectl-vet.1.gz
	@printf '%s\n' "Package: kubevet" "Version: $(DEB_VERSION)" "Architecture: $(DEB_ARCH)" \
	  "Maintainer: kubevet maintainers <kubevet@users.noreply.github.com>" \
	  "Depends: libc6, libssl3, libyaml-0-2, libjansson4, zlib1g" \
	  "Recommends: libcurl4, libmicrohttpd12" "Section: admin" "Priority: optional" \
	  "Installed-Size: $$(du -sk $(BUILD)/deb/usr | cut -f1)" \
	  "Description: diagnoses and safely fixes self-managed Kubernetes control planes" \
	  " kubevet finds expired or foreign certificates, removed APIs, etcd quorum traps and" \
	  " unverified backups on kubeadm control planes, plans the fix, and serves its findings" \
	  " to Prometheus (kubevet serve). Also a kubectl plugin: kubectl vet." \
	  >$(BUILD)/deb/DEBIAN/control
	dpkg-deb --root-owner-group -Zxz --build $(BUILD)/deb $(BUILD)/kubevet_$(DEB_VERSION)_$(DEB_ARCH).deb

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
