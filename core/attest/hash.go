package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
)

// EmptyHash is the package hash of an empty (or absent) package: the SHA-256
// of the empty string.
const EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// ManifestName is the file name of the manifest at the package root.
const ManifestName = "manifest.json"

// excludedNames are path components that exclude a file from the package
// hash at any depth (reference §4, step 2).
var excludedNames = map[string]bool{
	".git":          true,
	"__pycache__":   true,
	".DS_Store":     true,
	"manifest.json": true,
	"manifest.sig":  true,
	"manifest.tmp":  true,
}

// PackageHash computes the canonical package hash of the package rooted at
// fsys: for every kept regular file, in component-wise path order, the record
// "<relative posix path>\n<byte length>\n<sha256 hex>\n"; the result is the
// lowercase SHA-256 hex of the concatenated records.
//
// Exclusions (any depth): .git, __pycache__, .DS_Store, manifest.json,
// manifest.sig, manifest.tmp, and paths ending in ".pyc". Symlinks to files
// are hashed by their target's bytes; symlinked directories are not
// descended. Unlike the reference, components of the package root itself
// never exclude the package (fs.FS hides them). A missing root hashes as
// EmptyHash; an unreadable file is an error.
func PackageHash(fsys fs.FS) (string, error) {
	files, err := packageFiles(fsys)
	if err != nil {
		return "", err
	}
	outer := sha256.New()
	for _, name := range files {
		size, sum, err := hashFile(fsys, name)
		if err != nil {
			return "", err
		}
		io.WriteString(outer, name+"\n"+strconv.FormatInt(size, 10)+"\n"+sum+"\n")
	}
	return hex.EncodeToString(outer.Sum(nil)), nil
}

// PackageFiles lists the files that PackageHash covers, in hash order.
func PackageFiles(fsys fs.FS) ([]string, error) { return packageFiles(fsys) }

func packageFiles(fsys fs.FS) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == "." && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return fmt.Errorf("read package entry %q: %w", name, err)
		}
		if name == "." || d.IsDir() {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			info, err := fs.Stat(fsys, name)
			if err != nil {
				return fmt.Errorf("read package entry %q: broken symlink: %w", name, err)
			}
			if info.IsDir() {
				return nil // symlinked directories are not descended
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		if excluded(name) {
			return nil
		}
		files = append(files, name)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, comparePaths)
	return files, nil
}

func excluded(name string) bool {
	if strings.HasSuffix(name, ".pyc") {
		return true
	}
	for part := range strings.SplitSeq(name, "/") {
		if excludedNames[part] {
			return true
		}
	}
	return false
}

// comparePaths orders slash-separated paths component by component, as
// Python compares pathlib.Path objects (so "a/b.txt" < "a-b.txt" < "a.txt").
// Byte order of UTF-8 equals code point order, as in Python.
func comparePaths(a, b string) int {
	return slices.Compare(strings.Split(a, "/"), strings.Split(b, "/"))
}

func hashFile(fsys fs.FS, name string) (int64, string, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return 0, "", fmt.Errorf("read package file %q: %w", name, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", fmt.Errorf("read package file %q: %w", name, err)
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
