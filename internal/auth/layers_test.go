package auth_test

import (
	"go/build"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/gatehouse-id/gatehouse"

// surfaces talk to the service, never to the store (docs/architecture.md,
// "The import rule").
var surfaces = []string{"api", "cognito", "oidc", "web", "forwardauth", "scim"}

// forbidden reports whether a surface may not import path.
func forbidden(path string) bool {
	return path == module+"/internal/store" || strings.HasPrefix(path, module+"/internal/store/")
}

// TestSurfacesNeverImportTheStore: no non-test file of a surface package
// (or a subpackage) imports internal/store or its subpackages; their
// input types are the service's (internal/auth). The surfaces' test files
// do not open a store either: their stacks come from internal/testenv.
func TestSurfacesNeverImportTheStore(t *testing.T) {
	t.Parallel()
	n := 0
	for _, s := range surfaces {
		root := filepath.Join("..", s)
		err := filepath.WalkDir(root, func(dir string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() || d.Name() == "testdata" {
				return err
			}
			p, err := build.ImportDir(dir, 0)
			if _, ok := err.(*build.NoGoError); ok {
				return nil
			}
			if err != nil {
				return err
			}
			n++
			for _, imp := range p.Imports {
				if forbidden(imp) {
					t.Errorf("%s imports %s outside its _test.go files: call auth.Service and use its types", dir, imp)
				}
			}
			for _, imp := range append(p.TestImports, p.XTestImports...) {
				if forbidden(imp) && imp != module+"/internal/store" {
					t.Errorf("a test of %s imports %s: build the stack with internal/testenv", dir, imp)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", root, err)
		}
	}
	if n < len(surfaces) {
		t.Fatalf("read %d packages; the surfaces moved?", n)
	}
}

// TestForbiddenImportIsSeen: the check above reads real imports (a
// package that imports the store is caught).
func TestForbiddenImportIsSeen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "package x\n\nimport _ \"" + module + "/internal/store/sqlite\"\n"
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := build.ImportDir(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Imports) != 1 || !forbidden(p.Imports[0]) {
		t.Fatalf("imports %v", p.Imports)
	}
}
