# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ovs_docker_global_optspecs
    string join \n db= private-key= certificate= ca-cert= timeout= no-wait v/verbose h/help V/version
end

function __fish_ovs_docker_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ovs_docker_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ovs_docker_using_subcommand
    set -l cmd (__fish_ovs_docker_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -s V -l version -d 'Print version'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "add-port" -d 'Add INTERFACE inside CONTAINER and connect it as a port of BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "del-port" -d 'Delete INTERFACE inside CONTAINER and its port on BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "del-ports" -d 'Delete every port of CONTAINER on BRIDGE (none is success, as upstream; a missing BRIDGE is refused)'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "set-vlan" -d 'Set the VLAN of the port of INTERFACE in CONTAINER: access VLAN, trunk, or none'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "set-qos" -d 'Change the rate limit of the port of INTERFACE in CONTAINER'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "list" -d 'List the container ports attached to Open vSwitch bridges'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "gc" -d 'Remove stale ports (container gone or stopped, veth missing) and veths left by killed runs'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "watch" -d 'Follow Docker\'s events and re-create the ports of restarted containers'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "batch" -d 'Run the commands in FILE (- for standard input), one per line'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "tunnel" -d 'Add, delete or list tunnel ports (VXLAN, GRE, Geneve) to other hosts'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "mirror" -d 'Add, delete or list port mirrors (a copy of containers\' traffic to another container)'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "generate" -d 'Write the man page and shell completions into a directory'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "plugin" -d 'Serve the Docker network driver: `docker network create -d ovs` puts containers on OVS bridges'
complete -c ovs-docker -n "__fish_ovs_docker_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l netns -d 'Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l pid -d 'Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ipaddress -d 'Address for INTERFACE, with an optional /PLEN (IPv4 or IPv6); may be repeated' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l gateway -d 'Default gateway inside the container; may be given once per family (IPv4, IPv6)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l route -d 'A further route inside the container, DEST/PLEN or default, on-link or via GW; may be repeated' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l macaddress -d 'MAC address of INTERFACE (unicast)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l mtu -d 'MTU of INTERFACE (68 to 65535)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l datapath-type -d 'Datapath type of the bridge if add-port has to create it [default: system if the openvswitch kernel module is loaded, else netdev]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l vlan -d 'Make the port an access port of VLAN (in the same transaction that adds it)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ingress-rate -d 'Limit what the container sends into the bridge to KBPS kbit/s (OVS ingress policing)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ingress-burst -d 'Burst allowed above --ingress-rate, in kbit [default: 80% of the rate]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l iface-id -d 'Bind the port to this OVN logical switch port (external_ids:iface-id, and attached-mac)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ovn-nb -d 'Also create the logical switch port in this OVN northbound database (unix:PATH, tcp:IP:PORT or ssl:IP:PORT; several, comma-separated, for a cluster) with the interface\'s MAC and address; del-port deletes it' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ovn-switch -d 'The logical switch on which --ovn-nb creates the port' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l no-persist -d 'Do not re-create this port when the container restarts (see `watch`)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l force -d 'Add the port even if another port on BRIDGE already uses one of its addresses'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l wait-ovn -d 'Wait until ovn-controller reports the port installed (ovn-installed), within --timeout'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand add-port" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l netns -d 'Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l pid -d 'Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-port" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l netns -d 'Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l pid -d 'Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand del-ports" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l netns -d 'Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l pid -d 'Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l trunk -d 'Make the port a trunk of these VLANs, e.g. 10,20-30 (VLAN then is the native, untagged VLAN)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l clear -d 'Remove all VLAN settings (tag, trunks, mode) from the port'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-vlan" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l netns -d 'Instead of CONTAINER: a network namespace file, such as /var/run/netns/NAME (other runtimes)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l pid -d 'Instead of CONTAINER: the network namespace of process PID (Podman, containerd, LXC...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l ingress-rate -d 'Limit what the container sends into the bridge to KBPS kbit/s; 0 removes the limit' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l ingress-burst -d 'Burst allowed above the rate, in kbit [default: 80% of the rate]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand set-qos" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l container -d 'Only ports of this container (name, ID or ID prefix; or netns:PATH, pid:PID as the table shows them)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l netns -d 'Only ports in this network namespace (the same namespace under any path, or --pid, matches)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l pid -d 'Only ports in the network namespace of process PID' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l format -d 'Output format: a table for people, or JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand list" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l dry-run -d 'Say what would be removed, remove nothing'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand gc" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l once -d 'Reconcile once (re-create the ports of running containers, remove those of removed ones) and exit'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand batch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -f -a "add" -d 'Add a tunnel port to REMOTE_IP on BRIDGE (a no-op if the same tunnel exists)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -f -a "del" -d 'Delete the tunnel port NAME, or the tunnels to REMOTE_IP, from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -f -a "list" -d 'List the tunnel ports (on BRIDGE, or on every bridge)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and not __fish_seen_subcommand_from add del list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l type -d 'Tunnel protocol' -r -f -a "vxlan\t''
gre\t''
geneve\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l key -d 'Tunnel key: the VNI for vxlan and geneve (0 to 16777215), the GRE key (0 to 4294967295)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l name -d 'Port name [default: TYPE-HEX, e.g. vxlan-c0a80102 for 192.168.1.2]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l type -d 'Only tunnels of this type (with a remote IP); with a port name, refused unless it is the port\'s type' -r -f -a "vxlan\t''
gre\t''
geneve\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l if-exists -d 'Succeed if there is no such tunnel'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from del" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l format -d 'Output format: a table for people, or JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add a tunnel port to REMOTE_IP on BRIDGE (a no-op if the same tunnel exists)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from help" -f -a "del" -d 'Delete the tunnel port NAME, or the tunnels to REMOTE_IP, from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the tunnel ports (on BRIDGE, or on every bridge)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand tunnel; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -f -a "add" -d 'Mirror traffic of containers\' ports on BRIDGE to the port of a container (an IDS, a capture)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -f -a "del" -d 'Delete the mirror NAME from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -f -a "list" -d 'List the mirrors (on BRIDGE, or on every bridge)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and not __fish_seen_subcommand_from add del list help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l to -d 'The container interface whose port receives the copies, CONTAINER:IFACE (for a network plugin container, IFACE as named inside it: eth0...)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l from -d 'A container (all its ports on BRIDGE) or CONTAINER:IFACE to mirror; may be repeated [default: every port]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l direction -d 'Which traffic to copy, seen from the mirrored containers' -r -f -a "in\t'What the container receives'
out\t'What the container sends'
both\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l vlan -d 'Copy only the traffic of this VLAN' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from del" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l format -d 'Output format: a table for people, or JSON for scripts' -r -f -a "table\t''
json\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "add" -d 'Mirror traffic of containers\' ports on BRIDGE to the port of a container (an IDS, a capture)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "del" -d 'Delete the mirror NAME from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the mirrors (on BRIDGE, or on every bridge)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand mirror; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand generate" -s h -l help -d 'Print help'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l name -d 'Driver name, as given to `docker network create -d NAME`' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l socket -d 'Unix socket to serve on [default: /run/docker/plugins/NAME.sock, where dockerd looks]' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l datapath-type -d 'Datapath type of the bridges the plugin creates [default: system if the openvswitch kernel module is loaded, else netdev]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l log-level -d 'Log level on standard error (debug: one line per request)' -r -f -a "error\t''
warn\t''
info\t''
debug\t''"
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l ovn-nb -d 'OVN northbound database of mode=ovn networks and of the IPAM driver (--ipam-driver NAME): unix:PATH, tcp:IP:PORT, ssl:IP:PORT, or a cluster\'s members comma-separated (TLS files: --private-key, --certificate, --ca-cert)' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l db -d 'OVSDB server: unix:PATH, tcp:IP:PORT or ssl:IP:PORT [default: unix:$OVS_RUNDIR/db.sock, OVS_RUNDIR defaulting to /var/run/openvswitch]' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l private-key -d 'For ssl: remotes (--db, --ovn-nb): our private key (PEM), as the OVS tools take it' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l certificate -d 'For ssl: remotes: our certificate (PEM), shown to the server' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l ca-cert -d 'For ssl: remotes: the CA certificate (PEM) a server\'s certificate must be signed by' -r -F
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l timeout -d 'Give up on any daemon (OVSDB, ovs-vswitchd, Docker) after SECS seconds' -r
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -l no-wait -d 'Do not wait for ovs-vswitchd to apply the change (as ovs-vsctl --no-wait)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -s v -l verbose -d 'Print each step to standard error'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand plugin" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "add-port" -d 'Add INTERFACE inside CONTAINER and connect it as a port of BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "del-port" -d 'Delete INTERFACE inside CONTAINER and its port on BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "del-ports" -d 'Delete every port of CONTAINER on BRIDGE (none is success, as upstream; a missing BRIDGE is refused)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "set-vlan" -d 'Set the VLAN of the port of INTERFACE in CONTAINER: access VLAN, trunk, or none'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "set-qos" -d 'Change the rate limit of the port of INTERFACE in CONTAINER'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "list" -d 'List the container ports attached to Open vSwitch bridges'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "gc" -d 'Remove stale ports (container gone or stopped, veth missing) and veths left by killed runs'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "watch" -d 'Follow Docker\'s events and re-create the ports of restarted containers'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "batch" -d 'Run the commands in FILE (- for standard input), one per line'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "tunnel" -d 'Add, delete or list tunnel ports (VXLAN, GRE, Geneve) to other hosts'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "mirror" -d 'Add, delete or list port mirrors (a copy of containers\' traffic to another container)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "generate" -d 'Write the man page and shell completions into a directory'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "plugin" -d 'Serve the Docker network driver: `docker network create -d ovs` puts containers on OVS bridges'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and not __fish_seen_subcommand_from add-port del-port del-ports set-vlan set-qos list gc watch batch tunnel mirror generate plugin help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from tunnel" -f -a "add" -d 'Add a tunnel port to REMOTE_IP on BRIDGE (a no-op if the same tunnel exists)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from tunnel" -f -a "del" -d 'Delete the tunnel port NAME, or the tunnels to REMOTE_IP, from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from tunnel" -f -a "list" -d 'List the tunnel ports (on BRIDGE, or on every bridge)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "add" -d 'Mirror traffic of containers\' ports on BRIDGE to the port of a container (an IDS, a capture)'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "del" -d 'Delete the mirror NAME from BRIDGE'
complete -c ovs-docker -n "__fish_ovs_docker_using_subcommand help; and __fish_seen_subcommand_from mirror" -f -a "list" -d 'List the mirrors (on BRIDGE, or on every bridge)'
