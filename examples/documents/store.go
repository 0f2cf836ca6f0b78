package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Document is one stored document of a company.
type Document struct {
	ID        string    `json:"id"`
	Company   string    `json:"company"`
	Name      string    `json:"name"`
	Size      int       `json:"size"`
	CreatedBy string    `json:"created_by"`
	UpdatedAt time.Time `json:"updated_at"`
	Content   []byte    `json:"content,omitempty"`
}

var errNotFound = errors.New("document not found")

// Store keeps documents per company: in memory, or, with a directory, one
// JSON file per document under <dir>/<hex(company)>/<id>.json. A company's
// documents are only ever looked up under that company, so an id from
// another company is simply not found.
type Store struct {
	mu  sync.Mutex
	dir string                          // "" = memory only
	mem map[string]map[string]*Document // company -> id -> document
}

// NewStore returns a store in dir, or in memory when dir is "".
func NewStore(dir string) (*Store, error) {
	if dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	return &Store{dir: dir, mem: map[string]map[string]*Document{}}, nil
}

func newID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Store) companyDir(company string) string {
	return filepath.Join(s.dir, hex.EncodeToString([]byte(company)))
}

func validID(id string) bool {
	if len(id) != 24 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// List returns the company's documents without their content, by name.
func (s *Store) List(company string) ([]Document, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Document
	if s.dir == "" {
		for _, d := range s.mem[company] {
			c := *d
			c.Content = nil
			out = append(out, c)
		}
	} else {
		files, err := filepath.Glob(filepath.Join(s.companyDir(company), "*.json"))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			d, err := readDoc(f)
			if err != nil {
				return nil, err
			}
			d.Content = nil
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Name < out[j].Name || out[i].Name == out[j].Name && out[i].ID < out[j].ID
	})
	return out, nil
}

// Get returns one document with its content. Errors: errNotFound.
func (s *Store) Get(company, id string) (*Document, error) {
	if !validID(id) {
		return nil, errNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		d, ok := s.mem[company][id]
		if !ok {
			return nil, errNotFound
		}
		c := *d
		return &c, nil
	}
	d, err := readDoc(filepath.Join(s.companyDir(company), id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNotFound
	}
	return d, err
}

// Put creates (empty ID) or replaces a document. Replacing an unknown one
// is errNotFound.
func (s *Store) Put(d *Document) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ID == "" {
		d.ID = newID()
	} else if !validID(d.ID) || !s.exists(d.Company, d.ID) {
		return errNotFound
	}
	d.Size = len(d.Content)
	if s.dir == "" {
		if s.mem[d.Company] == nil {
			s.mem[d.Company] = map[string]*Document{}
		}
		c := *d
		s.mem[d.Company][d.ID] = &c
		return nil
	}
	dir := s.companyDir(d.Company)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, d.ID+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, d.ID+".json"))
}

// Delete removes a document. Errors: errNotFound.
func (s *Store) Delete(company, id string) error {
	if !validID(id) {
		return errNotFound
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dir == "" {
		if _, ok := s.mem[company][id]; !ok {
			return errNotFound
		}
		delete(s.mem[company], id)
		return nil
	}
	err := os.Remove(filepath.Join(s.companyDir(company), id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return errNotFound
	}
	return err
}

func (s *Store) exists(company, id string) bool {
	if s.dir == "" {
		_, ok := s.mem[company][id]
		return ok
	}
	_, err := os.Stat(filepath.Join(s.companyDir(company), id+".json"))
	return err == nil
}

func readDoc(path string) (*Document, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	return &d, nil
}
