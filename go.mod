module github.com/netgen-lab/netgen

go 1.26.8

require (
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/spf13/pflag v1.0.10
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/godbus/dbus/v5 v5.2.4
	golang.org/x/tools v0.52.0
)

require golang.org/x/sys v0.49.0
