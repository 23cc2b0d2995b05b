#!/usr/bin/env bash
# A per-user install without root: copies the tree package.sh staged (build/dist/stage) under PREFIX, with the
# desktop entry's Exec pointing at PREFIX/bin/hallmonitor (the desktop session's PATH may lack PREFIX/bin), and
# records what it installed in PREFIX/share/hallmonitor/installed-files, which uninstall removes (and nothing
# else: the Hall's config and data stay).
# Usage: install-user.sh install|uninstall PREFIX
set -euo pipefail
cd "$(dirname "$0")/../.."
action=${1:?usage: install-user.sh install|uninstall PREFIX}
prefix=${2:?usage: install-user.sh install|uninstall PREFIX}
prefix=${prefix%/}
manifest=$prefix/share/hallmonitor/installed-files
stage=build/dist/stage

refresh_caches() {
  # Menus notice new desktop entries on their own (ours declares no MIME types, so there is no mimeinfo.cache to
  # update); an icon theme folder that already has a cache (it has an index.theme) gets it rebuilt.
  if command -v gtk-update-icon-cache >/dev/null && [ -f "$prefix/share/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$prefix/share/icons/hicolor" || true
  fi
}

case "$action" in
install)
  [ -x "$stage/bin/hallmonitor" ] || { echo "install: no $stage: run 'make package' first" >&2; exit 1; }
  [ -f "$manifest" ] && bash "$0" uninstall "$prefix"
  mkdir -p "$prefix/share/hallmonitor"
  : >"$manifest.tmp"
  (cd "$stage" && find . -type f | sed 's|^\./||' | sort) | while read -r f; do
    mode=0644
    [ -x "$stage/$f" ] && mode=0755
    install -D -m "$mode" "$stage/$f" "$prefix/$f"
    echo "$f" >>"$manifest.tmp"
  done
  sed -i "s|^Exec=hallmonitor\$|Exec=$prefix/bin/hallmonitor|" "$prefix/share/applications/hallmonitor.desktop"
  mv "$manifest.tmp" "$manifest"
  refresh_caches
  echo "Installed Hall Monitor $("$prefix/bin/hallmonitor" version | cut -d' ' -f2) under $prefix ($(wc -l <"$manifest") files)."
  case ":$PATH:" in *":$prefix/bin:"*) ;; *) echo "Note: $prefix/bin is not on your PATH; the menu entry works, or run $prefix/bin/hallmonitor." ;; esac
  ;;
uninstall)
  [ -f "$manifest" ] || { echo "uninstall: nothing to do: no $manifest (Hall Monitor is not installed under $prefix)"; exit 0; }
  while read -r f; do
    rm -f "$prefix/$f"
    d=$(dirname "$prefix/$f")
    # empty folders the install made go too, up to (not including) the prefix
    while [ "$d" != "$prefix" ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done
  done <"$manifest"
  rm -f "$manifest"
  d=$prefix/share/hallmonitor
  while [ "$d" != "$prefix" ] && rmdir "$d" 2>/dev/null; do d=$(dirname "$d"); done
  refresh_caches
  echo "Removed Hall Monitor from $prefix (your Hall's config and data are kept)."
  ;;
*) echo "usage: install-user.sh install|uninstall PREFIX" >&2; exit 2 ;;
esac
