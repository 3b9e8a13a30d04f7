# bash completion for netgen(1)                              -*- shell-script -*-

# Lab names for `netgen down NAME`: the records netgen keeps beside each
# lab's networkd files (.netgen-LAB.json), in /etc and for /etc/netgen labs
# in /run.
_netgen_labs()
{
    local f
    for f in /etc/systemd/network/.netgen-*.json /run/systemd/network/.netgen-*.json; do
        [[ -e $f ]] || continue
        f=${f##*/.netgen-}
        printf '%s\n' "${f%.json}"
    done
}

_netgen()
{
    local cur prev words cword
    _init_completion || return

    local cmd="" i
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -*) ;;
            *) cmd=${words[i]}; break ;;
        esac
    done

    if [[ -z $cmd ]]; then
        mapfile -t COMPREPLY < <(compgen -W 'build validate down status test graph expand version help --help --version' -- "$cur")
        return
    fi

    case $prev in
        -o | --output | --unit-dir | --root)
            _filedir -d
            return
            ;;
        --format)
            mapfile -t COMPREPLY < <(compgen -W 'dot mermaid' -- "$cur")
            return
            ;;
        --timeout)
            return
            ;;
    esac

    local opts
    case $cmd in
        build) opts='-o --output --unit-dir --root --no-reload --dry-run --check --help' ;;
        down) opts='-o --output --unit-dir --root --no-reload --dry-run --help' ;;
        validate) opts='--help' ;;
        status) opts='--json --help' ;;
        test) opts='--json --timeout --help' ;;
        graph) opts='--format --help' ;;
        expand) opts='--help' ;;
        *) return ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
        return
    fi
    if [[ $cmd == down ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_netgen_labs)" -- "$cur")
    fi
    _filedir '@(yml|yaml)'
} &&
    complete -F _netgen netgen

# ex: filetype=sh
