package password

import (
	"strings"
	"testing"

	"github.com/gatehouse-id/gatehouse/internal/identity"
)

func TestCommonListSize(t *testing.T) {
	t.Parallel()
	if n := CommonCount(); n < 3000 {
		t.Fatalf("common list has %d entries; want >= 3000", n)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	def := identity.DefaultPasswordPolicy()
	cognito := identity.PasswordPolicy{MinimumLength: 8, MaximumLength: 256, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true}
	withWords := def
	withWords.BlockedWords = []string{"Gatehouse", "acme", "x"}
	noBlock := identity.PasswordPolicy{MinimumLength: 8}
	tests := []struct {
		name    string
		pol     identity.PasswordPolicy
		pw      string
		context []string
		wantMsg string // "" means valid
	}{
		{"ok passphrase", def, "violet tractor umbrella", nil, ""},
		{"ok 15 exactly", def, "gx7Lm2qpRz8wVb1", nil, ""},
		{"too short", def, "short one here", nil, "Password must be at least 15 characters."},
		{"zero policy takes defaults", identity.PasswordPolicy{}, "fourteen chars", nil, "at least 15"},
		{"runes not bytes: 15 runes", def, "ééééé ñandú 京都市", nil, ""},
		{"runes not bytes: 14 runes many bytes", def, "日本語のパスワードです京都市", nil, "at least 15"},
		{"NFD counts as NFC", identity.PasswordPolicy{MinimumLength: 3, MaximumLength: 3}, "e\u0301e\u0301e\u0301", nil, ""},
		{"too long", def, strings.Repeat("ab9Xq", 52), nil, "at most 256"},
		{"max custom", identity.PasswordPolicy{MinimumLength: 8, MaximumLength: 64}, strings.Repeat("k3Jq", 17), nil, "at most 64"},
		{"hard max", identity.PasswordPolicy{MinimumLength: 8, MaximumLength: 100000}, strings.Repeat("k3Jqz", 300), nil, "at most 1024"},
		{"control char", def, "violet tractor\x00umbrella", nil, "not allowed"},
		{"invalid utf8", def, "violet tractor \xff umbrella", nil, "invalid characters"},
		{"cognito all classes ok", cognito, "Tr4ctor!Violet", nil, ""},
		{"missing upper", cognito, "tr4ctor!violet", nil, "uppercase"},
		{"missing lower", cognito, "TR4CTOR!VIOLET", nil, "lowercase"},
		{"missing number", cognito, "Tractor!Violet", nil, "number"},
		{"missing symbol", cognito, "Tr4ctorxViolet", nil, "symbol"},
		{"space is a symbol", cognito, "Tr4ctor Violet", nil, ""},
		{"common exact 8", identity.PasswordPolicy{MinimumLength: 8, BlockCommonPasswords: true}, "password", nil, "too common"},
		{"common case-insensitive", identity.PasswordPolicy{MinimumLength: 8, BlockCommonPasswords: true}, "PassWord", nil, "too common"},
		{"common leet", identity.PasswordPolicy{MinimumLength: 8, BlockCommonPasswords: true}, "P@ssw0rd", nil, "too common"},
		{"common not checked when off", noBlock, "password", nil, ""},
		{"common + digits", def, "password1234567", nil, "too common"},
		{"common + symbols", def, "iloveyou!!!!!!!", nil, "too common"},
		{"common + common", def, "sunshinepassword", nil, "too common"},
		{"repeated char", def, "aaaaaaaaaaaaaaa", nil, "too common"},
		{"digit sequence wraps", def, "123456789012345", nil, "too common"},
		{"reverse sequence", def, "987654321098765", nil, "too common"},
		{"alphabet run", def, "abcdefghijklmnop", nil, "too common"},
		{"keyboard walk", def, "qwertyuiopasdfgh", nil, "too common"},
		{"repeated unit", def, "abcabcabcabcabcabc", nil, "too common"},
		{"repeated common", def, "dragondragondragon", nil, "too common"},
		{"1q2w walk", def, "1q2w3e4r5t6y7u8i", nil, "too common"},
		{"blocked word", withWords, "my gatehouse login 2024", nil, "must not contain the word \"gatehouse\""},
		{"blocked word case", withWords, "ACMEcorporation rocks", nil, "\"acme\""},
		{"short blocked word ignored", withWords, "xylophone extravaganza", nil, ""},
		{"context username", def, "hello-alice.smith-2024", []string{"Alice.Smith", "alice.smith"}, "username or email"},
		{"context short ignored", def, "always a violet tractor", []string{"al"}, ""},
		{"context empty ignored", def, "violet tractor umbrella", []string{""}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := Validate(tc.pol, tc.pw, tc.context...)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("Validate(%q) = %v; want nil", tc.pw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%q) = nil; want %q", tc.pw, tc.wantMsg)
			}
			if identity.ErrorCode(err) != identity.CodeInvalidPassword {
				t.Fatalf("code = %s", identity.ErrorCode(err))
			}
			if msg := identity.ErrorMessage(err); !strings.Contains(msg, tc.wantMsg) {
				t.Fatalf("message %q does not contain %q", msg, tc.wantMsg)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	pols := []identity.PasswordPolicy{
		identity.DefaultPasswordPolicy(),
		{MinimumLength: 8, MaximumLength: 256, RequireUppercase: true, RequireLowercase: true, RequireNumbers: true, RequireSymbols: true, BlockCommonPasswords: true},
		{MinimumLength: 99, RequireSymbols: true},
		{MinimumLength: 6, MaximumLength: 6, RequireNumbers: true, RequireSymbols: true, RequireUppercase: true, RequireLowercase: true},
	}
	for _, pol := range pols {
		seen := map[string]bool{}
		for i := 0; i < 50; i++ {
			pw, err := Generate(pol)
			if err != nil {
				t.Fatal(err)
			}
			if err := Validate(pol, pw); err != nil {
				t.Fatalf("Generate(%+v) = %q, invalid: %v", pol, pw, err)
			}
			if seen[pw] {
				t.Fatalf("repeated password %q", pw)
			}
			seen[pw] = true
		}
	}
}

func FuzzValidate(f *testing.F) {
	for _, s := range []string{"", "password1234567", "aaaaaaaaaaaaaaa", "日本語", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Validate(identity.DefaultPasswordPolicy(), s, "alice")
		if err != nil && identity.ErrorCode(err) != identity.CodeInvalidPassword {
			t.Fatalf("unexpected code %v", err)
		}
	})
}
