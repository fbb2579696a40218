"""Changes, what-if, plans and their rendering to esxcli, PowerCLI and govc."""
