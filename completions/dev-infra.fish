function __dev-infra_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __dev-infra_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __dev-infra_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __dev-infra_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __dev-infra_parse_tokens -S
    set -l unparsed_tokens (__dev-infra_tokens -pc)
    switch $unparsed_tokens[1]
    case 'dev-infra'
        __dev-infra_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'login'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'with-token' 'web' 'no-browser' 'offline' 'api-url=' 'storage=' 'oidc' 'audience=' 'oidc-token-file=' 'oidc-token-env=' 'policy=' 'print-env' 'version' 'h/help'
        case 'logout'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'all' 'revoke' 'version' 'h/help'
        case 'status'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'json' 'offline' 'version' 'h/help'
        case 'token'
            __dev-infra_parse_subcommand 0 'profile=' 'no-newline' 'version' 'h/help'
        case 'create'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'name=' 'scope=+' 'team=' 'integration=' 'expires=' 'rate-limit=' 'quota=' 'q/quiet' 'json' 'version' 'h/help'
        case 'list'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'all' 'team=' 'wide' 'json' 'version' 'h/help'
        case 'show'
            __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'json' 'version' 'h/help'
        case 'update'
            __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'name=' 'scope=+' 'expires=' 'rate-limit=' 'quota=' 'reset-quota' 'json' 'version' 'h/help'
        case 'revoke'
            __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'reason=' 'y/yes' 'json' 'version' 'h/help'
        case 'rotate'
            __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'grace=' 'q/quiet' 'json' 'version' 'h/help'
        case 'disable'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'user=' 'integration=' 'team=' 'reason=' 'json' 'version' 'h/help'
        case 'enable'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'user=' 'integration=' 'team=' 'reason=' 'json' 'version' 'h/help'
        case 'integration'
            __dev-infra_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'scope=+' 'rate-limit=' 'json' 'version' 'h/help'
            case 'list'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'team=' 'json' 'version' 'h/help'
            case 'show'
                __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'json' 'version' 'h/help'
            case 'delete'
                __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'y/yes' 'json' 'version' 'h/help'
            end
        case 'oidc-policy'
            __dev-infra_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'create'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'name=' 'issuer=' 'audience=' 'claim=+' 'integration=' 'scope=+' 'lifetime=' 'json' 'version' 'h/help'
            case 'list'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'json' 'version' 'h/help'
            case 'delete'
                __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'json' 'version' 'h/help'
            end
        case 'verify'
            __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'scope=+' 'team=' 'q/quiet' 'json' 'version' 'h/help'
        case 'api'
            __dev-infra_parse_subcommand 1 'profile=' 'v/verbose' 'X/method=' 'f/field=+' 'input=' 'version' 'h/help'
        case 'exec'
            __dev-infra_parse_subcommand -r 1 'profile=' 'oidc' 'audience=' 'oidc-token-file=' 'oidc-token-env=' 'policy=' 'version' 'h/help'
        case 'auth'
            __dev-infra_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'login'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'with-token' 'web' 'no-browser' 'offline' 'api-url=' 'storage=' 'oidc' 'audience=' 'oidc-token-file=' 'oidc-token-env=' 'policy=' 'print-env' 'version' 'h/help'
            case 'logout'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'all' 'revoke' 'version' 'h/help'
            case 'status'
                __dev-infra_parse_subcommand 0 'profile=' 'v/verbose' 'json' 'offline' 'version' 'h/help'
            case 'token'
                __dev-infra_parse_subcommand 0 'profile=' 'no-newline' 'version' 'h/help'
            end
        case 'help'
            __dev-infra_parse_subcommand -r 1 'version'
        end
    end
end

function __dev-infra_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __dev-infra_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __dev-infra_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __dev-infra_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__dev-infra_tokens -p)
    if test -z "$(__dev-infra_tokens -t)"
        set -l index (count (__dev-infra_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'dev-infra' -f
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'login' -d 'Log in: store a key for a profile, verified by the server.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'logout' -d 'Remove the profile\'s stored key; --revoke also revokes it on the server.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'status' -d 'Show the profile, server, key, where the key came from, and who it is.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'token' -d 'Print the API key in use to stdout, and nothing else.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'create' -d 'Create a key and print it, once.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'list' -d 'List keys: yours, or (admins) all or a team\'s.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'show' -d 'Show one key.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'update' -d 'Narrow a key in place: its name, scopes, expiry, rate limit or quota.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'revoke' -d 'Revoke a key; it stops working at once.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'rotate' -d 'Rotate a key (default: the one this profile uses).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'disable' -d 'Stop every key of a user, an integration or a team at once, until `dev-infra enable`.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'enable' -d 'Switch a user, an integration or a team back on after `dev-infra disable`.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'integration' -d 'Manage integrations: a team\'s bots and pipelines, which own keys instead of a person.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'oidc-policy' -d 'Manage OIDC trust policies: which CI jobs get keys of which integration (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'verify' -d 'Check a key read on stdin: its owner, team, scopes, state and expiry.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'api' -d 'Send an authenticated request to any endpoint and print the response body.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'exec' -d 'Run a command with DEV_INFRA_API_KEY and DEV_INFRA_API_URL set from the store.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'auth' -d 'The login, logout, status and token commands, as `gh auth` names them.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" with-token' -l 'with-token' -d 'Read the key from stdin.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" web' -l 'web' -d 'Sign in from a browser: show a one-time code and a URL, and wait until the code is approved there.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" no-browser' -l 'no-browser' -d 'With --web: do not open a browser, only print the URL.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" offline' -l 'offline' -d 'With --with-token: store the key without asking the server (a machine provisioned before the server is reachable).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" api-url' -l 'api-url' -d 'The server URL this profile talks to (https, or http to a loopback address).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" storage' -l 'storage' -d 'Where to keep the key: auto, keyring or file.' -rfka 'auto keyring file'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" oidc' -l 'oidc' -d 'Exchange this CI job\'s OIDC token for a short-lived key (see dev-infra oidc-policy).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" audience' -l 'audience' -d 'With --oidc: the audience to ask GitHub Actions for (default: dev-infra).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" oidc-token-file' -l 'oidc-token-file' -d 'With --oidc: read the token from this file.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" oidc-token-env' -l 'oidc-token-env' -d 'With --oidc: read the token from this environment variable.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" policy' -l 'policy' -d 'With --oidc: the trust policy to use (default: any that matches).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" print-env' -l 'print-env' -d 'With --oidc: print DEV_INFRA_API_KEY=<key> on stdout and store nothing.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra login" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" all' -l 'all' -d 'Remove the keys of every profile.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" revoke' -l 'revoke' -d 'Revoke the key on the server first; if that fails, nothing is forgotten.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra logout" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" json' -l 'json' -d 'Print a JSON object for scripts.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" offline' -l 'offline' -d 'Do not ask the server; show only what is stored here.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra token" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra token" no-newline' -l 'no-newline' -d 'Print the key without a trailing newline.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra token" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra token" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" name' -l 'name' -d 'The key\'s name, e.g. what uses it.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create"' -l 'scope' -d 'A scope to grant (repeatable): keys:read, keys:write, projects:read, projects:write, audit:read, keys:introspect, admin.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" team' -l 'team' -d 'The team the key acts for.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" integration' -l 'integration' -d 'The integration that owns the key instead of you (team admins); the key acts for its team.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" expires' -l 'expires' -d 'When it stops working: 30m, 12h, 30d, or never.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" rate-limit' -l 'rate-limit' -d 'The key\'s own rate limit: 100/1m, 10/1s, 5000/1h (default: the server\'s).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" quota' -l 'quota' -d 'Requests it may make at all: 1000/day, 500/month, or 50 (in total).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" q quiet' -l 'quiet' -s 'q' -d 'Print only the key.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" all' -l 'all' -d 'Every key (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" team' -l 'team' -d 'The keys of one team (admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" wide' -l 'wide' -d 'Add who owns each key (person or integration), who created it, its rate limit and its quota; wider than 80 columns.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" json' -l 'json' -d 'Print the API\'s JSON objects.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra show" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra show" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra show" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra show" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" name' -l 'name' -d 'A new name.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update"' -l 'scope' -d 'The key\'s scopes from now on (repeatable): a subset of its current ones.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" expires' -l 'expires' -d 'Expire this long from now: 30m, 12h, 30d (no later than it does now).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" rate-limit' -l 'rate-limit' -d 'The key\'s own rate limit: 100/1m, 10/1s.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" quota' -l 'quota' -d 'Requests it may make: 1000/day, 500/month, or 50 (in total).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" reset-quota' -l 'reset-quota' -d 'Start the quota\'s count again (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra update" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" reason' -l 'reason' -d 'Why, for the audit log.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" y yes' -l 'yes' -s 'y' -d 'Do not ask for confirmation (required when stdin is not a terminal).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra revoke" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" grace' -l 'grace' -d 'How long the old key keeps working: 0, 30m, 12h, 7d.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" q quiet' -l 'quiet' -s 'q' -d 'Print only the new key.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra rotate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" user' -l 'user' -d 'A user: every key of theirs (admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" integration' -l 'integration' -d 'An integration: every key of it (admins and team admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" team' -l 'team' -d 'A team: every key that acts for it (admins and team admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" reason' -l 'reason' -d 'Why, for the audit log.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra disable" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" user' -l 'user' -d 'A user: every key of theirs (admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" integration' -l 'integration' -d 'An integration: every key of it (admins and team admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" team' -l 'team' -d 'A team: every key that acts for it (admins and team admins).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" reason' -l 'reason' -d 'Why, for the audit log.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra enable" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra integration" -eq 1' -fa 'create' -d 'Create an integration of a team (admins and team admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra integration" -eq 1' -fa 'list' -d 'List integrations: your teams\' (admins: all).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra integration" -eq 1' -fa 'show' -d 'Show one integration.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra integration" -eq 1' -fa 'delete' -d 'Delete an integration; every key of it is revoked at once.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create"' -l 'scope' -d 'A scope its keys may hold (repeatable); not admin.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" rate-limit' -l 'rate-limit' -d 'One rate limit shared by all its keys: 600/1m (default: the server\'s).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" team' -l 'team' -d 'Only this team\'s.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" json' -l 'json' -d 'Print the API\'s JSON objects.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration show" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration show" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration show" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration show" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration show" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" y yes' -l 'yes' -s 'y' -d 'Do not ask for confirmation (required when stdin is not a terminal).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra integration delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra oidc-policy" -eq 1' -fa 'create' -d 'Create a trust policy (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra oidc-policy" -eq 1' -fa 'list' -d 'List the trust policies (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra oidc-policy" -eq 1' -fa 'delete' -d 'Delete a trust policy (admins).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" name' -l 'name' -d 'The policy\'s name, e.g. web-main.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" issuer' -l 'issuer' -d 'The tokens\' issuer (iss), e.g. https://token.actions.githubusercontent.com.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" audience' -l 'audience' -d 'A value the tokens\' aud must hold.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create"' -l 'claim' -d 'A claim the token must hold (repeatable): repository=acme/web, ref=refs/tags/v*.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" integration' -l 'integration' -d 'The integration whose keys the exchange gives.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create"' -l 'scope' -d 'A scope of the keys it gives (repeatable); within the integration\'s.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" lifetime' -l 'lifetime' -d 'How long a key it gives works: 1m to 1h.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy create" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy list" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy list" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy list" json' -l 'json' -d 'Print the API\'s JSON objects.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy list" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy delete" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy delete" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy delete" json' -l 'json' -d 'Print the API\'s JSON object.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy delete" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra oidc-policy delete" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify"' -l 'scope' -d 'A scope the key must hold (repeatable).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" team' -l 'team' -d 'A team the key must be able to act for.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" q quiet' -l 'quiet' -s 'q' -d 'Print nothing: the exit status says it.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" json' -l 'json' -d 'Print the server\'s JSON answer.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra verify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" X method' -s 'X' -l 'method' -d 'The HTTP method.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api"' -s 'f' -l 'field' -d 'A string field of a JSON body (repeatable).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" input' -l 'input' -d 'A file holding the body, or - for stdin.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra api" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" oidc' -l 'oidc' -d 'Exchange this CI job\'s OIDC token for a short-lived key (see dev-infra oidc-policy).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" audience' -l 'audience' -d 'With --oidc: the audience to ask GitHub Actions for (default: dev-infra).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" oidc-token-file' -l 'oidc-token-file' -d 'With --oidc: read the token from this file.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" oidc-token-env' -l 'oidc-token-env' -d 'With --oidc: read the token from this environment variable.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" policy' -l 'policy' -d 'With --oidc: the trust policy to use (default: any that matches).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra exec" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra auth" -eq 1' -fa 'login' -d 'Log in: store a key for a profile, verified by the server.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra auth" -eq 1' -fa 'logout' -d 'Remove the profile\'s stored key; --revoke also revokes it on the server.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra auth" -eq 1' -fa 'status' -d 'Show the profile, server, key, where the key came from, and who it is.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_positional "dev-infra auth" -eq 1' -fa 'token' -d 'Print the API key in use to stdout, and nothing else.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" with-token' -l 'with-token' -d 'Read the key from stdin.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" web' -l 'web' -d 'Sign in from a browser: show a one-time code and a URL, and wait until the code is approved there.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" no-browser' -l 'no-browser' -d 'With --web: do not open a browser, only print the URL.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" offline' -l 'offline' -d 'With --with-token: store the key without asking the server (a machine provisioned before the server is reachable).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" api-url' -l 'api-url' -d 'The server URL this profile talks to (https, or http to a loopback address).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" storage' -l 'storage' -d 'Where to keep the key: auto, keyring or file.' -rfka 'auto keyring file'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" oidc' -l 'oidc' -d 'Exchange this CI job\'s OIDC token for a short-lived key (see dev-infra oidc-policy).'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" audience' -l 'audience' -d 'With --oidc: the audience to ask GitHub Actions for (default: dev-infra).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" oidc-token-file' -l 'oidc-token-file' -d 'With --oidc: read the token from this file.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" oidc-token-env' -l 'oidc-token-env' -d 'With --oidc: read the token from this environment variable.' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" policy' -l 'policy' -d 'With --oidc: the trust policy to use (default: any that matches).' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" print-env' -l 'print-env' -d 'With --oidc: print DEV_INFRA_API_KEY=<key> on stdout and store nothing.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth login" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" all' -l 'all' -d 'Remove the keys of every profile.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" revoke' -l 'revoke' -d 'Revoke the key on the server first; if that fails, nothing is forgotten.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth logout" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" v verbose' -l 'verbose' -s 'v' -d 'Show each request and answer on stderr, the credential masked.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" json' -l 'json' -d 'Print a JSON object for scripts.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" offline' -l 'offline' -d 'Do not ask the server; show only what is stored here.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth status" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth token" profile' -l 'profile' -d 'The profile to use (default: $DEV_INFRA_PROFILE, else "default").' -rfka ''
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth token" no-newline' -l 'no-newline' -d 'Print the key without a trailing newline.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth token" version' -l 'version' -d 'Show the version.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra auth token" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'dev-infra' -n '__dev-infra_should_offer_completions_for_flags_or_options "dev-infra help" version' -l 'version' -d 'Show the version.'
