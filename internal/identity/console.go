package identity

// DefaultConsoleAdminGroup is the group whose members are the pool's
// admins in the admin console when the pool names none.
const DefaultConsoleAdminGroup = "Admins"

// ConsoleSettings configure the admin console of a pool.
type ConsoleSettings struct {
	// AdminGroup names the group whose enabled, confirmed members are the
	// pool's admins in the console (default DefaultConsoleAdminGroup).
	AdminGroup string `json:"admin_group,omitempty"`
}

// AdminGroupName is AdminGroup or the default.
func (c ConsoleSettings) AdminGroupName() string {
	if c.AdminGroup != "" {
		return c.AdminGroup
	}
	return DefaultConsoleAdminGroup
}
