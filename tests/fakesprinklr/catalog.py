"""The fixed, per-environment reference data: user, workspaces, lists, fields.

Everything is derived from (seed, env) so two runs with the same arguments
serve the same catalog.  Partner and workspace list ids are small integers
that deliberately overlap, as they do in Sprinklr.
"""

import datetime

from fakesprinklr.ids import derive

WORKSPACES = [("4706", "App_Client1"), ("5547", "Retail EMEA"), ("1000004509", "Zoë's Workspace")]
PARTNER_LISTS = [(1, "VIP"), (2, "Newsletter"), (3, "Churn Risk"), (5, "Beta Testers"),
                 (17518, "Influencers")]
WORKSPACE_LISTS = {
    "4706": [(1, "Current Customer"), (2, "Prospects"), (3, "Do Not Contact")],
    "5547": [(2, "Prospects EMEA"), (3, "Événements"), (2691, "Loyalty Gold")],
    "1000004509": [(4, "Käufer"), (5, "Support Escalations")],
}
CUSTOM_FIELDS = [("Tier", "PICKLIST", ["Gold", "Silver", "Bronze"]),
                 ("Favourite Store", "TEXT", []),
                 ("Interests", "MULTI_PICKLIST", ["Sports", "Music", "Travel", "Food", "Tech"]),
                 ("Account Manager", "TEXT", []),
                 ("Größe µ", "PICKLIST", ["S", "M", "L", "XL"])]
# Fields that no generated profile holds (tests put profiles that do): a
# second "Tier", since two fields may share a label, and one that profiles
# hold at workspace level.
UNUSED_FIELDS = [("Tier", "TEXT", []), ("Store Visits", "TEXT", [])]
LIST_EPOCH_MS = 1474494334000


def _hex24(*parts):
    return "%016x%08x" % (derive(*parts), derive("low", *parts) & 0xFFFFFFFF)


def _time_string(ms):
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.0")


class Catalog:
    """Reference data of one environment."""

    def __init__(self, seed, env):
        self.seed = seed
        self.env = env
        self.fields = [self._field(n, label, kind, opts)
                       for n, (label, kind, opts) in enumerate(CUSTOM_FIELDS)]
        self.field_names = [f["fieldName"] for f in self.fields]

    def me(self):
        base = 66000000 + derive(self.seed, self.env, "me") % 900000
        return {"id": base + 14640, "name": "Ada Admin", "email": "ada@example.com",
                "type": "PARTNER_ADMIN", "customerId": base, "workspaceId": int(WORKSPACES[0][0]),
                "properties": {}}

    def workspaces(self):
        return [{"id": wid, "name": name} for wid, name in WORKSPACES]

    def workspace_ids(self):
        return [wid for wid, _ in WORKSPACES]

    def partner_list_ids(self):
        return [lid for lid, _ in PARTNER_LISTS]

    def workspace_list_ids(self, wid):
        return [lid for lid, _ in WORKSPACE_LISTS[wid]]

    def partner_lists(self):
        return [self._list(lid, name, None, n) for n, (lid, name) in enumerate(PARTNER_LISTS)]

    def client_lists(self, client_id=None):
        out = []
        for n, (wid, lists) in enumerate(sorted(WORKSPACE_LISTS.items())):
            if client_id is None or client_id == wid:
                out.extend(self._list(lid, name, wid, n * 10 + k) for k, (lid, name) in enumerate(lists))
        return out

    def custom_fields(self):
        system = {"id": _hex24(self.seed, self.env, "system-field"), "fieldName": "dateµcreatedTime",
                  "label": {"en": "Created"}, "fieldType": "DATE", "globalAsset": True,
                  "assetClassList": ["PROFILE"], "options": [], "enabled": True, "system": True}
        unused = [self._field(100 + n, label, kind, opts)
                  for n, (label, kind, opts) in enumerate(UNUSED_FIELDS)]
        return self.fields + unused + [system]

    def _list(self, lid, name, wid, n):
        ms = LIST_EPOCH_MS + n * 86400000 + derive(self.env, "list", lid, wid) % 86400000
        item = {"mongoId": _hex24(self.seed, self.env, "list", lid, wid), "id": lid,
                "name": name, "description": "%s (fake list)" % name, "isDeleted": False,
                "createdTime": _time_string(ms), "modifiedTime": _time_string(ms),
                "createdTimeMillis": ms, "modifiedTimeMillis": ms}
        if wid is not None:
            item["clientId"] = int(wid)
        return item

    def _field(self, n, label, kind, options):
        return {"id": _hex24(self.seed, self.env, "field-id", n),
                "fieldName": "_c_" + _hex24(self.seed, self.env, "field", n),
                "label": {"en": label}, "fieldType": kind, "globalAsset": n % 2 == 0,
                "assetClassList": ["PROFILE"], "options": list(options), "enabled": True}
