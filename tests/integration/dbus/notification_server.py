#!/usr/bin/python3
"""A stand-in for a desktop's notification server, for the D-Bus tests.

Owns org.freedesktop.Notifications on the bus at ADDRESS and appends one JSON line per Notify
call to LOG: {"app": ..., "summary": ..., "body": ...}. Writes READY once the name is owned.
Usage: notification_server.py ADDRESS LOG READY
"""
import json
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

IFACE = "org.freedesktop.Notifications"


class Server(dbus.service.Object):
    def __init__(self, bus, log):
        super().__init__(bus, "/org/freedesktop/Notifications")
        self.log = log
        self.next_id = 1

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app, replaces, icon, summary, body, actions, hints, timeout):
        with open(self.log, "a") as fh:
            fh.write(json.dumps({"app": str(app), "summary": str(summary), "body": str(body)}) + "\n")
        self.next_id += 1
        return self.next_id - 1

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return ["body"]

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ["karapace-test", "karapace", "1", "1.2"]


def main():
    address, log, ready = sys.argv[1:4]
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.bus.BusConnection(address)
    name = dbus.service.BusName(IFACE, bus)
    server = Server(bus, log)
    with open(ready, "w") as fh:
        fh.write("ready\n")
    GLib.MainLoop().run()
    del name, server


if __name__ == "__main__":
    main()
