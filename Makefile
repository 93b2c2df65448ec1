PREFIX ?= $(HOME)/.local
# Static Swift runtime: nothing to install beside the binary. Non-PIE: the loader has no 75,000
# relocations to apply at every start, which is most of what `dev-infra token` costs.
# --no-export-dynamic: the static runtime's link line exports every symbol of our own objects
# (30,000), and the runtime's start-up calls dladdr(), which walks that table: 0.4 ms a start.
BUILD_FLAGS = -c release --static-swift-stdlib -Xswiftc -Xclang-linker -Xswiftc -no-pie -Xlinker --no-export-dynamic

.PHONY: build serve test install uninstall docs bench-token bench-server bench-integrations

BIN = $$(swift build $(BUILD_FLAGS) --show-bin-path)

build:
	swift build $(BUILD_FLAGS)

# The server on its embedded SQLite, from the same release build `make install` uses, so following
# the README builds everything once. ARGS="--port 9000" passes options to `serve`.
serve: build
	"$(BIN)/dev-infra-server" serve $(ARGS)

test:
	scripts/test.sh

# The binary links the Swift runtime statically: no Swift install needed where it runs, and a
# faster start (see Benchmarks/).
install: build
	install -d $(PREFIX)/bin $(PREFIX)/share/man/man1 \
	  $(PREFIX)/share/bash-completion/completions $(PREFIX)/share/zsh/site-functions \
	  $(PREFIX)/share/fish/vendor_completions.d
	install -s -m 0755 "$$(swift build $(BUILD_FLAGS) --show-bin-path)/dev-infra" $(PREFIX)/bin/dev-infra
	install -s -m 0755 "$$(swift build $(BUILD_FLAGS) --show-bin-path)/dev-infra-server" $(PREFIX)/bin/dev-infra-server
	install -m 0644 man/dev-infra.1 $(PREFIX)/share/man/man1/dev-infra.1
	install -m 0644 man/dev-infra-server.1 $(PREFIX)/share/man/man1/dev-infra-server.1
	install -m 0644 completions/dev-infra.bash $(PREFIX)/share/bash-completion/completions/dev-infra
	install -m 0644 completions/_dev-infra $(PREFIX)/share/zsh/site-functions/_dev-infra
	install -m 0644 completions/dev-infra.fish $(PREFIX)/share/fish/vendor_completions.d/dev-infra.fish

uninstall:
	rm -f $(PREFIX)/bin/dev-infra $(PREFIX)/bin/dev-infra-server $(PREFIX)/share/man/man1/dev-infra.1 $(PREFIX)/share/man/man1/dev-infra-server.1 \
	  $(PREFIX)/share/bash-completion/completions/dev-infra $(PREFIX)/share/zsh/site-functions/_dev-infra \
	  $(PREFIX)/share/fish/vendor_completions.d/dev-infra.fish

docs:
	scripts/generate-docs.sh

bench-token:
	Benchmarks/token.sh

bench-server:
	Benchmarks/server.sh

# Introspection and forward-auth beside /healthz, and nginx + forward-auth beside nginx alone.
bench-integrations: build
	BIN="$(BIN)/dev-infra-server" Benchmarks/integrations.sh
