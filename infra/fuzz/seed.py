#!/usr/bin/env python3
"""infra/fuzz/seed.py — seed a store for the schemathesis run (infra/fuzz.sh) and write its configuration.

    seed.py --url http://127.0.0.1:PORT --platform-key KEY --plan PLAN --payments-secret SECRET \
            --config OUT.toml --ids OUT.json --hooks infra/fuzz/hooks.py [--not-isolated]

Creates a store through the platform API (`POST /v1/platform/stores`, rate-limit plan PLAN, which infra/fuzz.sh gives
a large limit in CARTWHEEL_RATE_LIMITS so that the fuzzer never meets a 429), then, with its test key, one resource
of every kind the document's path parameters name (as tests/it/tenancy.rs seeds them), plus a spare one for each
operation that deletes or retires its resource, so that a DELETE early in the run does not turn the other operations
of that resource into 404s; one order is paid (a callback signed with SECRET), so that it can be fulfilled and
refunded. Writes:

  OUT.json  every seeded id, by name
  OUT.toml  a schemathesis 4 configuration: the test key as `Authorization`, the platform key on the platform
            operations, and one [[operations]] section per operation of the served document that fixes each path
            parameter (and the ids a body names) to a real id of the matching resource.

Standard library only. Every request goes to --url (a loopback address): webhook endpoints point at
http://127.0.0.1:9/hooks, where nothing listens, and the configuration fixes `url` in the webhook operations' bodies
to it too (schemathesis applies such body values in its fuzzing and stateful phases only; with --not-isolated the
other phases are turned off for those two operations).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request

HOOK_URL = "http://127.0.0.1:9/hooks"


class Api:
    def __init__(self, base: str, key: str) -> None:
        self.base = base.rstrip("/")
        self.key = key

    def call(self, method: str, path: str, body: object | None = None, expect: int | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        if expect is not None and status != expect:
            sys.exit(f"seed: {method} {path} answered {status}, expected {expect}: {text[:500]}")
        return json.loads(text) if text else {}

    def data(self, method: str, path: str, body: object | None = None, expect: int = 201) -> dict:
        return self.call(method, path, body, expect)["data"]

    def create(self, path: str, body: object) -> str:
        return self.data("POST", path, body)["id"]


def pay(base: str, secret: str, store: str, order: dict) -> None:
    """The provider's `payment_intent.succeeded` for `order`, signed as infra/fuzz/hooks.py signs (Payment-Signature)."""
    amount = order["total"]["amount"]
    body = json.dumps({"id": f"evt_seed_{order['id']}", "type": "payment_intent.succeeded", "livemode": False,
                       "data": {"object": {"id": "pi_seed", "amount": amount, "amount_received": amount,
                                           "currency": order["total"]["currency"].lower(),
                                           "metadata": {"order_id": order["id"], "store_id": store}}}}).encode()
    now = str(int(time.time()))
    mac = hmac.new(secret.encode(), now.encode() + b"." + body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(f"{base.rstrip('/')}/v1/payments/webhook", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Payment-Signature", f"t={now},v1={mac}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if status != 200:
        sys.exit(f"seed: the payment callback for {order['id']} answered {status}: {text[:500]}")


def address() -> dict:
    return {"line1": "1 Market St", "city": "San Francisco", "region": "CA", "postal_code": "94105", "country": "US"}


def seed(base: str, platform_key: str, plan: str, payments_secret: str) -> dict:
    platform = Api(base, platform_key)
    created = platform.data("POST", "/v1/platform/stores", {"name": "Fuzz store", "plan": plan})
    api = Api(base, created["test_key"]["secret"])
    ids: dict[str, str] = {"store": created["store"]["id"], "test_key": created["test_key"]["secret"]}
    ids["auth_key"] = created["test_key"]["id"]

    ids["warehouse"] = api.create("/v1/warehouses", {"name": "Back room"})
    ids["category"] = api.create("/v1/categories", {"name": "Mugs"})
    ids["category_doomed"] = api.create("/v1/categories", {"name": "Doomed"})
    ids["brand"] = api.create("/v1/brands", {"name": "Acme"})
    ids["brand_doomed"] = api.create("/v1/brands", {"name": "Doomed"})
    ids["group"] = api.create("/v1/customer-groups", {"name": "Wholesale"})
    ids["group_doomed"] = api.create("/v1/customer-groups", {"name": "Doomed"})  # no members: deletable

    def product(name: str, sku: str, **extra: object) -> str:
        body = {"name": name, "sku": sku, "price": {"amount": 1200, "currency": "USD"}, **extra}
        return api.create("/v1/products", body)

    # Stocked, active and simple: what carts, checkouts and reservations name.
    ids["stocked"] = product("Mug", "MUG", status="active")
    api.call("POST", f"/v1/inventory/{ids['stocked']}/adjust",
             {"delta": 100000, "reason": "restock"}, expect=200)
    # With an option, categories, a brand and two variants (one to delete).
    ids["product"] = product("Tee", "TEE", category_ids=[ids["category"]], brand_id=ids["brand"])
    api.call("POST", f"/v1/products/{ids['product']}/options", {"name": "Size", "values": ["S", "M", "L"]},
             expect=201)
    ids["variant"] = api.create(f"/v1/products/{ids['product']}/variants", {"option_values": {"Size": "S"},
                                                                            "sku": "TEE-S"})
    ids["variant_doomed"] = api.create(f"/v1/products/{ids['product']}/variants", {"option_values": {"Size": "M"},
                                                                                   "sku": "TEE-M"})
    ids["product_doomed"] = product("Doomed", "DOOMED")
    ids["product_action"] = product("Lifecycle", "LIFE")
    # Options can only be added while a product has no variants; variants need an option value not taken yet.
    ids["product_options"] = product("Plain", "PLAIN")
    ids["product_variants"] = product("Cap", "CAP")
    api.call("POST", f"/v1/products/{ids['product_variants']}/options", {"name": "Size", "values": ["S", "M", "L"]},
             expect=201)
    ids["option"] = "Size"  # an option name, not an id: the path of add_option_values

    ids["customer"] = api.create("/v1/customers", {"email": "ada@example.com", "group_ids": [ids["group"]]})
    ids["address"] = api.create(f"/v1/customers/{ids['customer']}/addresses", address())
    ids["address_doomed"] = api.create(f"/v1/customers/{ids['customer']}/addresses", address())
    ids["customer_doomed"] = api.create("/v1/customers", {"email": "doomed@example.com"})
    ids["customer_blacklist"] = api.create("/v1/customers", {"email": "mallory@example.com"})

    # Endpoints before the orders, so the order events make deliveries too.
    ids["webhook"] = api.create("/v1/webhooks", {"url": HOOK_URL, "events": ["*"]})
    ids["webhook_doomed"] = api.create("/v1/webhooks", {"url": HOOK_URL, "events": ["order.created"]})
    ids["delivery"] = api.data("POST", f"/v1/webhooks/{ids['webhook']}/test", expect=202)["id"]

    def cart(with_item: bool = True) -> tuple[str, str | None]:
        cart_id = api.create("/v1/carts", {"currency": "USD", "customer_id": ids["customer"]})
        if not with_item:
            return cart_id, None
        filled = api.data("POST", f"/v1/carts/{cart_id}/items", {"product_id": ids["stocked"], "quantity": 1},
                          expect=200)
        return cart_id, filled["items"][0]["id"]

    ids["cart"], ids["item"] = cart()
    ids["cart_doomed_item"], ids["item_doomed"] = cart()
    ids["cart_checkout"], _ = cart()

    def order() -> dict:
        sold, _ = cart()
        return api.data("POST", "/v1/checkout", {"cart_id": sold, "customer_id": ids["customer"],
                                                 "email": "ada@example.com", "shipping_address": address()})

    placed = order()
    ids["order"], ids["line"] = placed["id"], placed["lines"][0]["id"]
    pay(base, payments_secret, ids["store"], placed)  # confirmed: it can be fulfilled and refunded
    ids["order_status"] = order()["id"]

    hold = {"items": [{"id": ids["stocked"], "quantity": 1}]}
    ids["reservation"] = api.create("/v1/inventory/reserve", hold)
    ids["reservation_release"] = api.create("/v1/inventory/reserve", hold)
    # A pending transfer out of the default warehouse (where the stock is), for ship and receive.
    default = next(w["id"] for w in api.call("GET", "/v1/warehouses", expect=200)["data"] if w.get("is_default"))
    ids["transfer"] = api.create("/v1/inventory/transfers", {"item_id": ids["stocked"], "from_warehouse_id": default,
                                                             "to_warehouse_id": ids["warehouse"], "quantity": 1,
                                                             "in_transit": True})

    ids["price"] = api.create("/v1/prices", {"product_id": ids["stocked"], "currency": "EUR", "amount": 1100,
                                             "customer_group_id": ids["group"]})
    ids["price_doomed"] = api.create("/v1/prices", {"product_id": ids["stocked"], "currency": "GBP", "amount": 900})
    zone = {"name": "France", "countries": ["FR"],
            "options": [{"name": "Colissimo", "currency": "EUR", "rate": {"type": "flat", "amount": 500}}]}
    ids["zone"] = api.create("/v1/shipping-zones", zone)
    ids["zone_doomed"] = api.create("/v1/shipping-zones", {**zone, "name": "Doomed"})
    modifier = {"name": "Members", "kind": "percentage", "value": -500, "customer_group_id": ids["group"]}
    ids["modifier"] = api.create("/v1/price-modifiers", modifier)
    ids["modifier_doomed"] = api.create("/v1/price-modifiers", {**modifier, "name": "Doomed"})
    budget = {"name": "Spring sale", "budget_type": "spend", "limit": 100000, "currency": "USD"}
    ids["campaign"] = api.create("/v1/campaigns", budget)
    ids["campaign_doomed"] = api.create("/v1/campaigns", {**budget, "name": "Doomed"})
    ids["promotion"] = api.create("/v1/promotions", {"name": "Spring", "code": "SPRING", "value_type": "percentage",
                                                     "value": 10, "conditions": {"product_ids": [ids["stocked"]]},
                                                     "campaign_id": ids["campaign"]})
    ids["promo_code"] = "SPRING"  # a code, not an id: the path of remove_promotion_code
    ids["cart_codes"], _ = cart()
    api.data("POST", f"/v1/carts/{ids['cart_codes']}/promotion-codes", {"code": "spring"}, expect=200)
    ids["coupon_doomed"] = api.create("/v1/coupons", {"code": "DOOMED", "type": "percentage", "value": 5})
    ids["promotion_doomed"] = api.create("/v1/promotions", {"name": "Doomed", "value_type": "fixed", "value": 100,
                                                            "currency": "USD"})

    ids["key"] = api.create("/v1/api-keys", {"name": "kept", "scopes": ["products:read"]})
    ids["key_doomed"] = api.create("/v1/api-keys", {"name": "doomed", "scopes": ["products:read"]})
    return ids


# Path parameters by the path segment before them (as tests/it/tenancy.rs `concrete`), then per operation.
BY_SEGMENT = {
    "api-keys": "key", "brands": "brand", "carts": "cart", "categories": "category", "customers": "customer",
    "addresses": "address", "items": "item", "inventory": "stocked", "orders": "order", "products": "product",
    "variants": "variant", "reservations": "reservation", "warehouses": "warehouse", "webhooks": "webhook",
    "deliveries": "delivery", "stores": "store", "customer-groups": "group", "transfers": "transfer",
    "prices": "price", "shipping-zones": "zone", "price-modifiers": "modifier",
    "promotions": "promotion",
    "promotion-codes": "promo_code",
    "campaigns": "campaign",
    "coupons": "promotion",
}
# An operation that deletes or retires its resource gets a resource of its own.
BY_OPERATION = {
    "revoke_api_key": {"id": "key_doomed"},
    "delete_brand": {"id": "brand_doomed"},
    "delete_category": {"id": "category_doomed"},
    "delete_customer": {"id": "customer_doomed"},
    "delete_address": {"address_id": "address_doomed"},
    "remove_item": {"id": "cart_doomed_item", "item_id": "item_doomed"},
    "delete_product": {"id": "product_doomed"},
    "delete_variant": {"variant_id": "variant_doomed"},
    "delete_endpoint": {"id": "webhook_doomed"},
    "delete_group": {"id": "group_doomed"},
    "delete_price": {"id": "price_doomed"},
    "delete_zone": {"id": "zone_doomed"},
    "delete_modifier": {"id": "modifier_doomed"},
    "deactivate_promotion": {"id": "promotion_doomed"},
    "remove_promotion_code": {"id": "cart_codes"},
    "delete_campaign": {"id": "campaign_doomed"},
    "delete_coupon": {"id": "coupon_doomed"},
    "act_on_product": {"id": "product_action"},
    "add_option": {"id": "product_options"},
    "create_variant": {"id": "product_variants"},
    "add_option_values": {"id": "product_variants", "option": "option"},
    "change_status": {"id": "order_status"},
    "blacklist": {"id": "customer_blacklist"},
    "unblacklist": {"id": "customer_blacklist"},
}
# Ids (and the webhook URL) inside bodies: `body.<path>` keys, `[*]` for every array item.
BODIES = {
    "create_cart": {"body.customer_id": "customer"},
    "add_item": {"body.product_id": "stocked"},
    "checkout": {"body.cart_id": "cart_checkout", "body.customer_id": "customer"},
    "release": {"body.reservation_id": "reservation_release"},
    "reserve": {"body.items[*].id": "stocked"},
    "adjust_stock": {"body.warehouse_id": "warehouse"},
    "create_fulfillment": {"body.items[*].line_id": "line", "body.warehouse_id": "warehouse"},
    "create_product": {"body.brand_id": "brand", "body.category_ids": ["category"]},
    "update_product": {"body.brand_id": "brand", "body.category_ids": ["category"]},
    "create_category": {"body.parent_id": "category"},
    "create_variant": {"body.option_values": {"Size": "L"}},
    "create_customer": {"body.group_ids": ["group"]},
    "add_promotion_code": {"body.code": "promo_code"},
    "validate_promotions": {"body.cart_id": "cart", "body.code": "promo_code"},
    "create_promotion": {"body.campaign_id": "campaign"},
    "create_coupon": {"body.applies_to_products": ["stocked"]},
    "update_promotion": {"body.campaign_id": "campaign"},
    "update_customer": {"body.group_ids": ["group"]},
}
QUERIES = {"check_stock": {"query.ids": "stocked"}}
PLATFORM = {"create_store", "create_store_api_key"}


def toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def toml_value(value: object) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return toml_string(str(value))


def config(document: dict, ids: dict, platform_key: str, hooks: str, isolated: bool) -> str:
    lines = [
        "# Written by infra/fuzz/seed.py for one run of infra/fuzz.sh: the ids are those of that run's store.",
        f'headers = {{ Authorization = {toml_string("Bearer " + ids["test_key"])} }}',
        f"hooks = {toml_string(hooks)}",
        "# Reproducible: nothing carried over from an earlier run.",
        "cache = { enabled = false }",
        "",
    ]
    for template, item in sorted(document["paths"].items()):
        segments = template.split("/")
        for method, operation in sorted(item.items()):
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            op_id = operation["operationId"]
            parameters: dict[str, object] = {}
            for i, segment in enumerate(segments):
                if not segment.startswith("{"):
                    continue
                name = segment[1:-1]
                param = next((p for p in operation.get("parameters", []) if p["name"] == name), {})
                if "enum" in param.get("schema", {}):
                    continue  # e.g. {action}: schemathesis picks from the enum
                which = BY_OPERATION.get(op_id, {}).get(name) or BY_SEGMENT.get(segments[i - 1])
                if which is None:
                    sys.exit(f"seed: no seeded id for {name} in {method.upper()} {template}: seed one")
                parameters[f"path.{name}"] = ids[which]
            for key, which in {**BODIES.get(op_id, {}), **QUERIES.get(op_id, {})}.items():
                if isinstance(which, list):
                    parameters[key] = [ids[w] for w in which]
                elif isinstance(which, dict):
                    parameters[key] = which  # a literal
                else:
                    parameters[key] = ids[which]
            if op_id in ("create_endpoint", "update_endpoint"):
                parameters["body.url"] = HOOK_URL
            if not parameters and op_id not in PLATFORM:  # (the endpoint operations always have body.url)
                continue
            lines += ["[[operations]]", f"include-operation-id = {toml_string(op_id)}"]
            if op_id in PLATFORM:
                lines.append(f'headers = {{ Authorization = {toml_string("Bearer " + platform_key)} }}')
            if op_id in ("create_endpoint", "update_endpoint") and not isolated:
                # The examples and coverage phases ignore body overrides and send the document's example URL (a
                # public name): outside a network namespace of its own, the run must not make such an endpoint.
                lines.append("phases = { examples = { enabled = false }, coverage = { enabled = false } }")
            if parameters:
                body = ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in parameters.items())
                lines.append(f"parameters = {{ {body} }}")
            lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--platform-key", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--payments-secret", required=True, help="the gateway's CARTWHEEL_PAYMENTS_WEBHOOK_SECRET")
    parser.add_argument("--config", required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--hooks", required=True, help="the schemathesis hooks file (infra/fuzz/hooks.py)")
    parser.add_argument("--not-isolated", action="store_true",
                        help="the gateway can reach other hosts: keep the webhook operations' URLs on loopback")
    args = parser.parse_args()
    started = time.monotonic()
    with urllib.request.urlopen(args.url.rstrip("/") + "/v1/openapi.json", timeout=30) as response:
        document = json.load(response)
    ids = seed(args.url, args.platform_key, args.plan, args.payments_secret)
    with open(args.ids, "w") as out:
        json.dump(ids, out, indent=2, sort_keys=True)
    with open(args.config, "w") as out:
        out.write(config(document, ids, args.platform_key, args.hooks, not args.not_isolated))
    print(f"seed: store {ids['store']} (plan {args.plan}) seeded in {time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
