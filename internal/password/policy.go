package password

import (
	"bufio"
	"crypto/rand"
	_ "embed"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

// Length limits applied whatever the policy says.
const (
	// DefaultMinLength and DefaultMaxLength apply when a policy leaves
	// MinimumLength / MaximumLength at zero.
	DefaultMinLength = 15
	DefaultMaxLength = 256
	// HardMaxLength bounds the work one password can cause, whatever the
	// pool's MaximumLength says.
	HardMaxLength = 1024
	// minContextLen: context strings (username, email local part) shorter
	// than this are not searched for, to avoid refusing "al" inside "always".
	minContextLen = 4
	// minBlockedWordLen: pool blocked words shorter than this are ignored.
	minBlockedWordLen = 3
)

// Symbols is the set Cognito counts as symbols (besides the space).
const Symbols = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- "

//go:embed common_passwords.txt
var commonPasswordsText string

// common holds the lower-cased common passwords.
var common = func() map[string]struct{} {
	m := make(map[string]struct{}, 4096)
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(norm.NFC.String(line))] = struct{}{}
	}
	return m
}()

// CommonCount returns the number of entries in the built-in list.
func CommonCount() int { return len(common) }

func invalid(format string, args ...any) error {
	return &identity.Error{Code: identity.CodeInvalidPassword, Field: "password", Message: fmt.Sprintf(format, args...)}
}

// Validate checks password against pol. Length is counted in Unicode code
// points after NFC normalisation (NIST SP 800-63B). It checks, in order:
// valid UTF-8 without control characters; minimum and maximum length (zero
// policy fields take DefaultMinLength / DefaultMaxLength); the composition
// flags; when pol.BlockCommonPasswords, the built-in list of common
// passwords (case-insensitive, also with a trivial prefix or suffix such as
// "password1234567") and trivial repetitions or sequences ("aaaa…",
// "123456789012345", "qwertyuiop…"); the pool's BlockedWords
// (case-insensitive substring); and each context string (username, email
// local part, name) of at least 4 characters, case-insensitive substring.
//
// It returns nil or an *identity.Error with CodeInvalidPassword and a
// message naming the first rule broken.
func Validate(pol identity.PasswordPolicy, password string, context ...string) error {
	if !utf8.ValidString(password) {
		return invalid("Password contains invalid characters.")
	}
	minLen, maxLen := pol.MinimumLength, pol.MaximumLength
	if minLen <= 0 {
		minLen = DefaultMinLength
	}
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	maxLen = min(maxLen, HardMaxLength)
	if len(password) > 4*HardMaxLength { // before normalising: bound the work
		return invalid("Password must be at most %d characters.", maxLen)
	}
	pw := norm.NFC.String(password)
	for _, r := range pw {
		if unicode.IsControl(r) {
			return invalid("Password contains characters that are not allowed.")
		}
	}
	n := utf8.RuneCountInString(pw)
	if n < minLen {
		return invalid("Password must be at least %d characters.", minLen)
	}
	if n > maxLen {
		return invalid("Password must be at most %d characters.", maxLen)
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(Symbols, r) || unicode.IsPunct(r) || unicode.IsSymbol(r):
			symbol = true
		}
	}
	switch {
	case pol.RequireUppercase && !upper:
		return invalid("Password must contain an uppercase letter.")
	case pol.RequireLowercase && !lower:
		return invalid("Password must contain a lowercase letter.")
	case pol.RequireNumbers && !digit:
		return invalid("Password must contain a number.")
	case pol.RequireSymbols && !symbol:
		return invalid("Password must contain a symbol.")
	}
	lc := strings.ToLower(pw)
	if pol.BlockCommonPasswords && predictable(lc) {
		return invalid("Password is too common or predictable; choose a less common one.")
	}
	for _, w := range pol.BlockedWords {
		w = strings.ToLower(norm.NFC.String(strings.TrimSpace(w)))
		if utf8.RuneCountInString(w) >= minBlockedWordLen && strings.Contains(lc, w) {
			return invalid("Password must not contain the word %q.", w)
		}
	}
	for _, c := range context {
		c = strings.ToLower(norm.NFC.String(strings.TrimSpace(c)))
		if utf8.RuneCountInString(c) >= minContextLen && strings.Contains(lc, c) {
			return invalid("Password must not contain your username or email address.")
		}
	}
	return nil
}

// sequences are strings along which typing a run is "trivial"; a password
// that is a run along one of them (forwards or backwards, wrapping around)
// is predictable.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"qwertyuiopasdfghjklzxcvbnm",
	"qwertyuiop", "asdfghjkl", "zxcvbnm",
	"azertyuiopqsdfghjklmwxcvbn",
	"qwertzuiopasdfghjklyxcvbnm",
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"qazwsxedcrfvtgbyhnujmikolp",
	"1q2w3e4r5t6y7u8i9o0p",
	"!@#$%^&*()",
	"1234567890qwertyuiopasdfghjklzxcvbnm",
}

// trivial reports whether s (lower-case) is empty, one repeated short unit,
// or a run along a keyboard or alphabet sequence.
func trivial(s string) bool {
	if s == "" {
		return true
	}
	r := []rune(s)
	// Repetition of a unit: "aaaa", "abab", "123123", "qwertyqwerty".
	for u := 1; u <= len(r)/2; u++ {
		if len(r)%u != 0 {
			continue
		}
		rep := true
		for i := u; i < len(r); i++ {
			if r[i] != r[i-u] {
				rep = false
				break
			}
		}
		if rep {
			unit := string(r[:u])
			if u <= 4 || isCommon(unit) || trivial(unit) {
				return true
			}
		}
	}
	if len(r) == 1 {
		return true
	}
	for _, seq := range sequences {
		if onSequence(s, seq) {
			return true
		}
	}
	return false
}

// onSequence reports whether s is a run along seq (cyclically), forwards or
// backwards.
func onSequence(s, seq string) bool {
	if len(s) < 2 || !strings.ContainsRune(seq, []rune(s)[0]) {
		return false
	}
	n := len(s)/len(seq) + 2
	return strings.Contains(strings.Repeat(seq, n), s) || strings.Contains(strings.Repeat(reverse(seq), n), s)
}

func reverse(s string) string {
	r := []rune(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return string(r)
}

// leet undoes common character substitutions.
var leet = strings.NewReplacer("@", "a", "4", "a", "$", "s", "5", "s", "0", "o", "3", "e", "1", "i", "!", "i", "7", "t", "+", "t")

func isCommon(s string) bool {
	if _, ok := common[s]; ok {
		return true
	}
	_, ok := common[leet.Replace(s)]
	return ok
}

// predictable reports whether s (lower-case, NFC) is a common password, a
// trivial string, or the concatenation of two parts each of which is a
// common password or trivial, e.g. "password" + "1234567",
// "iloveyou" + "!!!!!!!", "qwerty" + "qwerty123". Common parts must be at
// least 4 characters so that every password does not split into short
// common fragments.
func predictable(s string) bool {
	if isCommon(s) || trivial(s) {
		return true
	}
	piece := func(p string) bool {
		return (utf8.RuneCountInString(p) >= 4 && isCommon(p)) || trivial(p)
	}
	for i := range s {
		if i == 0 {
			continue
		}
		if piece(s[:i]) && piece(s[i:]) {
			return true
		}
	}
	return false
}

// Generate returns a random password that satisfies pol: at least
// max(pol.MinimumLength, 16) characters (at most the policy's maximum),
// containing a character of every class the policy requires, drawn from an
// alphabet without look-alike characters. Use it for temporary passwords.
func Generate(pol identity.PasswordPolicy) (string, error) {
	const (
		uppers  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
		lowers  = "abcdefghijkmnopqrstuvwxyz"
		digits  = "23456789"
		symbols = "!#%&*+-=?@^_"
	)
	n := max(pol.MinimumLength, 16)
	if pol.MaximumLength > 0 {
		n = min(n, pol.MaximumLength)
	}
	all := uppers + lowers + digits + symbols
	var classes []string
	if pol.RequireUppercase {
		classes = append(classes, uppers)
	}
	if pol.RequireLowercase {
		classes = append(classes, lowers)
	}
	if pol.RequireNumbers {
		classes = append(classes, digits)
	}
	if pol.RequireSymbols {
		classes = append(classes, symbols)
	}
	if n < len(classes) {
		n = len(classes)
	}
	pick := func(set string) (byte, error) {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
		if err != nil {
			return 0, fmt.Errorf("password: generate: %w", err)
		}
		return set[i.Int64()], nil
	}
	for attempt := 0; attempt < 100; attempt++ {
		buf := make([]byte, n)
		for i := range buf {
			c, err := pick(all)
			if err != nil {
				return "", err
			}
			buf[i] = c
		}
		// Put one character of each required class at distinct random positions.
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		for i := n - 1; i > 0; i-- {
			j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
			if err != nil {
				return "", fmt.Errorf("password: generate: %w", err)
			}
			perm[i], perm[j.Int64()] = perm[j.Int64()], perm[i]
		}
		for k, set := range classes {
			c, err := pick(set)
			if err != nil {
				return "", err
			}
			buf[perm[k]] = c
		}
		pw := string(buf)
		if Validate(pol, pw) == nil {
			return pw, nil
		}
	}
	return "", &identity.Error{Code: identity.CodeInvalidUserPoolConfig, Message: "Cannot generate a password that satisfies the pool's password policy."}
}
