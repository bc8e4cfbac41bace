#!/usr/bin/env bash
# vagrant/Vagrantfile passes `vagrant validate --ignore-provider` (and the
# libvirt/virtualbox provider checks when those providers are installed),
# as the one machine and as the fleet (OKX_FLEET=3: three machines, the
# Ansible provisioner naming a playbook and a config that exist, a default
# policy okx-faultd --check accepts); vagrant/provision.sh is
# shellcheck-clean when shellcheck is installed.
# Boxes are never downloaded: validate only reads the Vagrantfile.
set -u
# shellcheck source-path=SCRIPTDIR/../.. source=tests/lib/netns.sh disable=SC1091
. "$TOP/tests/lib/netns.sh"
command -v vagrant >/dev/null || skip "vagrant not installed (apt-get install vagrant)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# a private HOME and VAGRANT_HOME: no state in the user's home, and the
# .vagrant folder kept out of the tree
export HOME=$tmp VAGRANT_HOME=$tmp/vagrant.d VAGRANT_DOTFILE_PATH=$tmp/dot
export VAGRANT_CHECKPOINT_DISABLE=1 VAGRANT_NO_COLOR=1
cd "$TOP/vagrant" || fail "no vagrant/ folder"
out=$(timeout 120 vagrant validate --ignore-provider 2>&1) || { echo "$out"; fail "vagrant validate --ignore-provider"; }
echo "$out"
grep -q "validated successfully" <<<"$out" || fail "vagrant validate did not report success"
out=$(OKX_FLEET=3 timeout 120 vagrant validate --ignore-provider 2>&1) || { echo "$out"; fail "OKX_FLEET=3 vagrant validate"; }
echo "$out"
grep -q "validated successfully" <<<"$out" || fail "OKX_FLEET=3: vagrant validate did not report success"
[ "$(grep -c '^==> fleet[1-3]: ' <<<"$out")" = 3 ] || fail "OKX_FLEET=3 does not define fleet1..fleet3"
# validate does not open the provisioner's files: the paths are checked here
for f in $(sed -n 's/^ *ansible\.\(playbook\|config_file\) = "\([^"]*\)"$/\2/p' Vagrantfile); do
	[ -f "$f" ] || fail "the Ansible provisioner names $f, which does not exist"
	note "the Ansible provisioner's $f exists"
done
[ "$(grep -c '^ *ansible\.\(playbook\|config_file\) = ' Vagrantfile)" = 2 ] || fail "no Ansible provisioner (playbook, config_file)"
"$OKX_FAULTD" --check fleet-smoke.policy || fail "vagrant/fleet-smoke.policy"
checked=""
if timeout 60 vagrant plugin list 2>/dev/null | grep -q '^vagrant-libvirt'; then
	out=$(VAGRANT_DEFAULT_PROVIDER=libvirt timeout 120 vagrant validate 2>&1) || { echo "$out"; fail "libvirt provider config"; }
	checked+=" libvirt"
fi
if command -v VBoxManage >/dev/null; then
	out=$(VAGRANT_DEFAULT_PROVIDER=virtualbox timeout 120 vagrant validate 2>&1) || { echo "$out"; fail "virtualbox provider config"; }
	checked+=" virtualbox"
fi
note "provider configs checked:${checked:- none (no provider installed)}"
if command -v shellcheck >/dev/null; then
	shellcheck -x provision.sh || fail "shellcheck vagrant/provision.sh"
	note "provision.sh is shellcheck-clean"
fi
[ -e .vagrant ] && fail "validate left vagrant/.vagrant behind"
echo "Vagrantfile OK"
