#!/usr/bin/env python3
"""A Secret Service that refuses every session algorithm, "plain" included, and answers nothing
else: enough to see `dev-infra token` hand over to libsecret when a plain session is refused.
Runs on the bus in DBUS_SESSION_BUS_ADDRESS until killed. Needs python3-dbus and python3-gi."""
import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib


class NotSupported(dbus.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.NotSupported"


class Service(dbus.service.Object):
    @dbus.service.method("org.freedesktop.Secret.Service", in_signature="sv", out_signature="vo")
    def OpenSession(self, algorithm, parameters):
        raise NotSupported(f"algorithm {algorithm} is not supported here")


DBusGMainLoop(set_as_default=True)
bus = dbus.SessionBus()
name = dbus.service.BusName("org.freedesktop.secrets", bus)
Service(bus, "/org/freedesktop/secrets")
GLib.MainLoop().run()
