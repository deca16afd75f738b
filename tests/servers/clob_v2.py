"""Polymarket's CLOB V2 exchange as a local HTTP server: the Gamma and CLOB read endpoints of
`Polymarket` (tests/servers/polymarket.py) plus the endpoints a live order goes through, each
checked as the exchange documents it (docs.polymarket.com, CLOB V2, since 2026-04-28):

- L1 authentication (`POST /auth/api-key`, `GET /auth/derive-api-key`): an EIP-712 `ClobAuth`
  signature (domain ClobAuthDomain, version 1, chain 137) that must recover POLY_ADDRESS.
- L2 authentication of every trading request: POLY_API_KEY, POLY_PASSPHRASE and an HMAC-SHA256
  (url-safe base64 secret) of timestamp + method + path + body that must match.
- `POST /order`: the V2 order struct (salt, maker, signer, tokenId, makerAmount, takerAmount,
  side, signatureType, timestamp, metadata, builder; no feeRateBps, nonce or expiration signed)
  under the domain "Polymarket CTF Exchange" version "2", chain 137, verifying contract the
  standard exchange or, for a neg-risk market, the neg-risk exchange. EOA (0) and proxy/Safe
  (1, 2) orders are plain EIP-712 signatures; deposit-wallet orders (3, ERC-1271) sign the order
  nested in an ERC-7739 `TypedDataSign` for the wallet. The signature must recover the account
  that owns the API key and the maker must be that account's wallet. A FAK order takes the asks
  at or under its price (the book shrinks), then is killed; a delayed token answers `delayed`
  and matches on the first `GET /data/order/{id}`.
- `GET /markets-by-token/{token}`, `GET /clob-markets/{condition}`, `GET /neg-risk`: the market
  records the SDK signs by; the relayer's `GET /deployed` for proxy and deposit wallets.

Everything refused is kept in `refusals` (why), everything accepted in `orders`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers.asgi import AsgiServer
from tests.servers.polymarket import Polymarket

CHAIN_ID = 137
# the V2 exchanges (docs.polymarket.com, "Contract addresses", CLOB V2)
STANDARD_EXCHANGE = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE = "0xe2222d279d744050d28e00520010520000310F59"
ZERO32 = "0x" + "00" * 32
FAK_NOT_FILLED = (
    "no orders found to match with FAK order. "
    "FAK orders are partially filled or killed if no match is found."
)

_DOMAIN = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ORDER = [
    {"name": "salt", "type": "uint256"},
    {"name": "maker", "type": "address"},
    {"name": "signer", "type": "address"},
    {"name": "tokenId", "type": "uint256"},
    {"name": "makerAmount", "type": "uint256"},
    {"name": "takerAmount", "type": "uint256"},
    {"name": "side", "type": "uint8"},
    {"name": "signatureType", "type": "uint8"},
    {"name": "timestamp", "type": "uint256"},
    {"name": "metadata", "type": "bytes32"},
    {"name": "builder", "type": "bytes32"},
]


@dataclass
class ApiKey:
    address: str
    key: str
    secret: str
    passphrase: str


@dataclass
class ClobV2:
    """What the exchange knows; tests read and change it."""

    data: Polymarket = field(default_factory=Polymarket)
    wallets: dict[str, str] = field(default_factory=dict)  # owner → wallet it may trade for
    deployed: set[str] = field(default_factory=set)  # wallets the relayer knows (lower case)
    balances: dict[str, float] = field(default_factory=dict)  # wallet → pUSD (default 10,000)
    delayed: set[str] = field(default_factory=set)  # tokens whose orders wait for a poll
    neg_risk_of: dict[str, bool] = field(default_factory=dict)  # a CLOB flag unlike Gamma's
    keys: dict[str, ApiKey] = field(default_factory=dict)  # owner (lower case) → key
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- markets as the CLOB records them

    def _market_of(self, token: str) -> dict[str, Any] | None:
        for event in self.data.events:
            for market in event["markets"]:
                if token in json.loads(market["clobTokenIds"]):
                    return dict(market)
        return None

    def neg_risk(self, token: str) -> bool:
        market = self._market_of(token)
        assert market is not None
        return self.neg_risk_of.get(token, bool(market.get("negRisk", False)))

    # -- authentication

    def _refuse(self, status: int, why: str) -> JSONResponse:
        with self._lock:
            self.refusals.append(why)
        return JSONResponse({"error": why}, status_code=status)

    def _l1(self, request: Request) -> str | JSONResponse:
        headers = request.headers
        try:
            address, stamp = headers["POLY_ADDRESS"], headers["POLY_TIMESTAMP"]
            nonce, signature = int(headers["POLY_NONCE"]), headers["POLY_SIGNATURE"]
        except (KeyError, ValueError):
            return self._refuse(401, "L1 headers missing")
        typed = {
            "domain": {"name": "ClobAuthDomain", "version": "1", "chainId": CHAIN_ID},
            "types": {
                "EIP712Domain": _DOMAIN[:3],
                "ClobAuth": [
                    {"name": "address", "type": "address"},
                    {"name": "timestamp", "type": "string"},
                    {"name": "nonce", "type": "uint256"},
                    {"name": "message", "type": "string"},
                ],
            },
            "primaryType": "ClobAuth",
            "message": {
                "address": address,
                "timestamp": stamp,
                "nonce": nonce,
                "message": "This message attests that I control the given wallet",
            },
        }
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
        if signer.lower() != address.lower() or abs(time.time() - int(stamp)) > 300:
            return self._refuse(401, "L1 signature does not recover POLY_ADDRESS")
        return address.lower()

    async def _l2(self, request: Request) -> tuple[ApiKey, bytes] | JSONResponse:
        headers = request.headers
        body = await request.body()
        known = {k.key: k for k in self.keys.values()}
        key = known.get(headers.get("POLY_API_KEY", ""))
        if key is None or headers.get("POLY_PASSPHRASE") != key.passphrase:
            return self._refuse(401, "unknown API key or passphrase")
        if headers.get("POLY_ADDRESS", "").lower() != key.address:
            return self._refuse(401, "POLY_ADDRESS is not the key's address")
        message = f"{headers.get('POLY_TIMESTAMP', '')}{request.method}{request.url.path}"
        message += body.decode()
        secret = base64.urlsafe_b64decode(key.secret + "=" * (-len(key.secret) % 4))
        expected = base64.urlsafe_b64encode(
            hmac.new(secret, message.encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(expected, headers.get("POLY_SIGNATURE", "")):
            return self._refuse(401, "L2 HMAC signature does not match")
        return key, body

    async def create_key(self, request: Request) -> JSONResponse:
        owner = self._l1(request)
        if isinstance(owner, JSONResponse):
            return owner
        with self._lock:
            if owner in self.keys:
                return JSONResponse({"error": "Could not create api key"}, status_code=400)
            self.keys[owner] = ApiKey(
                address=owner,
                key=str(uuid.uuid4()),
                secret=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
                passphrase=secrets.token_hex(16),
            )
        return JSONResponse(self._creds(self.keys[owner]))

    async def derive_key(self, request: Request) -> JSONResponse:
        owner = self._l1(request)
        if isinstance(owner, JSONResponse):
            return owner
        if owner not in self.keys:
            return JSONResponse({"error": "Could not derive api key!"}, status_code=400)
        return JSONResponse(self._creds(self.keys[owner]))

    @staticmethod
    def _creds(key: ApiKey) -> dict[str, str]:
        return {"apiKey": key.key, "secret": key.secret, "passphrase": key.passphrase}

    # -- orders

    def _recover(self, order: dict[str, Any], exchange: str) -> str:
        message = {
            "salt": int(order["salt"]),
            "maker": order["maker"],
            "signer": order["signer"],
            "tokenId": int(order["tokenId"]),
            "makerAmount": int(order["makerAmount"]),
            "takerAmount": int(order["takerAmount"]),
            "side": 0 if order["side"] == "BUY" else 1,
            "signatureType": int(order["signatureType"]),
            "timestamp": int(order["timestamp"]),
            "metadata": order["metadata"],
            "builder": order["builder"],
        }
        domain = {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": CHAIN_ID,
            "verifyingContract": exchange,
        }
        signature = bytes.fromhex(order["signature"].removeprefix("0x"))
        if message["signatureType"] == 3:  # ERC-1271: the order nested for the deposit wallet
            typed = {
                "types": {
                    "EIP712Domain": _DOMAIN,
                    "Order": _ORDER,
                    "TypedDataSign": [
                        {"name": "contents", "type": "Order"},
                        {"name": "name", "type": "string"},
                        {"name": "version", "type": "string"},
                        {"name": "chainId", "type": "uint256"},
                        {"name": "verifyingContract", "type": "address"},
                        {"name": "salt", "type": "bytes32"},
                    ],
                },
                "primaryType": "TypedDataSign",
                "domain": domain,
                "message": {
                    "contents": message,
                    "name": "DepositWallet",
                    "version": "1",
                    "chainId": CHAIN_ID,
                    "verifyingContract": order["signer"],
                    "salt": ZERO32,
                },
            }
            signature = signature[:65]  # the ECDSA part; the rest names the nested type
        else:
            typed = {
                "types": {"EIP712Domain": _DOMAIN, "Order": _ORDER},
                "primaryType": "Order",
                "domain": domain,
                "message": message,
            }
        encoded = encode_typed_data(full_message=typed)
        return str(Account.recover_message(encoded, signature=signature)).lower()

    async def post_order(self, request: Request) -> JSONResponse:
        authed = await self._l2(request)
        if isinstance(authed, JSONResponse):
            return authed
        key, body = authed
        sent = json.loads(body)
        order, kind = sent["order"], sent["orderType"]
        if sent.get("owner") != key.key:
            return self._refuse(400, "the order's owner is not the API key")
        if "feeRateBps" in order or "nonce" in order:
            return self._refuse(400, "a V1 order (feeRateBps/nonce) on the V2 exchange")
        token = str(order["tokenId"])
        if self._market_of(token) is None:
            return self._refuse(400, f"no market for token {token}")
        exchange = NEG_RISK_EXCHANGE if self.neg_risk(token) else STANDARD_EXCHANGE
        try:
            signer = self._recover(order, exchange)
        except (ValueError, KeyError) as error:
            return self._refuse(400, f"invalid order signature: {error}")
        wallet = self.wallets.get(key.address, key.address)
        kind_of = int(order["signatureType"])
        owner_signed = signer == key.address and (
            order["signer"].lower() == (wallet if kind_of == 3 else key.address)
        )
        if not owner_signed:
            return self._refuse(400, "invalid signature: not signed by the API key's account")
        if order["maker"].lower() != wallet:
            return self._refuse(400, f"maker {order['maker']} is not the account's wallet")
        if int(order["makerAmount"]) / 1e6 > self.balances.get(wallet, 10_000.0) + 1e-9:
            return self._refuse(400, "not enough balance / allowance")
        price = int(order["makerAmount"]) / int(order["takerAmount"])
        shares = int(order["takerAmount"]) / 1e6
        order_id = "0x" + hashlib.sha256(body).hexdigest()
        record = {
            "id": order_id,
            "token": token,
            "kind": kind,
            "price": price,
            "shares": shares,
            "wallet": wallet,
            "signature_type": kind_of,
            "exchange": exchange,
            "owner": key.key,
            "status": "DELAYED",
            "matched": 0.0,
            "spent": 0.0,
        }
        with self._lock:
            self.orders[order_id] = record
        if token in self.delayed:
            return self._answer(record, "delayed")
        self._match(record)
        return self._answer(record, "matched")

    def _match(self, record: dict[str, Any]) -> None:
        """Take the asks at or under the price (the book shrinks), up to the wallet's pUSD."""
        with self._lock:
            book = self.data.books[record["token"]]
            cash = self.balances.get(record["wallet"], 10_000.0)
            remaining, matched, spent = record["shares"], 0.0, 0.0
            for level in sorted(book["asks"], key=lambda level: float(level["price"])):
                level_price = float(level["price"])
                if level_price > record["price"] + 1e-9 or remaining <= 1e-9:
                    break
                take = min(float(level["size"]), remaining, (cash - spent) / level_price)
                if take <= 0:
                    break
                matched, spent, remaining = (
                    matched + take,
                    spent + take * level_price,
                    remaining - take,
                )
                level["size"] = f"{float(level['size']) - take:g}"
            book["asks"] = [level for level in book["asks"] if float(level["size"]) > 0]
            self.balances[record["wallet"]] = cash - spent
            record.update(matched=round(matched, 6), spent=round(spent, 6))
            record["status"] = "MATCHED" if matched > 0 else "CANCELED"

    def _answer(self, record: dict[str, Any], status: str) -> JSONResponse:
        if status == "matched" and record["matched"] == 0:
            return JSONResponse({"errorMsg": FAK_NOT_FILLED, "success": False, "orderID": "",
                                 "status": "", "makingAmount": "", "takingAmount": ""})  # fmt: skip
        filled = status == "matched"
        return JSONResponse(
            {
                "errorMsg": "",
                "success": True,
                "orderID": record["id"],
                "status": status,
                "makingAmount": f"{record['spent']:g}" if filled else "",
                "takingAmount": f"{record['matched']:g}" if filled else "",
                "tradeIDs": [str(uuid.uuid4())] if filled else [],
                "transactionsHashes": [],
            }
        )

    async def get_order(self, request: Request) -> JSONResponse:
        authed = await self._l2(request)
        if isinstance(authed, JSONResponse):
            return authed
        record = self.orders.get(request.path_params["order_id"])
        if record is None or record["owner"] != authed[0].key:
            return JSONResponse({"error": "order not found"}, status_code=404)
        if record["status"] == "DELAYED":
            self._match(record)  # the delay is over
        return JSONResponse(
            {
                "id": record["id"],
                "status": record["status"],
                "owner": record["owner"],
                "maker_address": record["wallet"],
                "market": self._market_of(record["token"])["conditionId"],  # type: ignore[index]
                "asset_id": record["token"],
                "side": "BUY",
                "original_size": f"{record['shares']:g}",
                "size_matched": f"{record['matched']:g}",
                "price": f"{record['price']:g}",
                "outcome": "Yes",
                "expiration": "0",
                "order_type": record["kind"],
                "associate_trades": [],
                "created_at": int(time.time()),
            }
        )

    # -- market records

    async def markets_by_token(self, request: Request) -> JSONResponse:
        market = self._market_of(request.path_params["token"])
        if market is None:
            return JSONResponse({"error": "market not found"}, status_code=404)
        return JSONResponse({"condition_id": market["conditionId"]})

    async def clob_market(self, request: Request) -> JSONResponse:
        condition = request.path_params["condition"]
        for event in self.data.events:
            for market in event["markets"]:
                if market["conditionId"] == condition:
                    tokens = json.loads(market["clobTokenIds"])
                    return JSONResponse(
                        {
                            "c": condition,
                            "t": [{"t": t, "o": o} for t, o in
                                  zip(tokens, json.loads(market["outcomes"]), strict=True)],
                            "mts": market.get("orderPriceMinTickSize", 0.01),
                            "nr": self.neg_risk(tokens[0]),
                            "fd": {"r": 0.03, "e": 1},
                        }
                    )  # fmt: skip
        return JSONResponse({"error": "market not found"}, status_code=404)

    async def neg_risk_flag(self, request: Request) -> JSONResponse:
        token = request.query_params.get("token_id", "")
        if self._market_of(token) is None:
            return JSONResponse({"error": "market not found"}, status_code=404)
        return JSONResponse({"neg_risk": self.neg_risk(token)})

    async def relayer_deployed(self, request: Request) -> JSONResponse:
        address = request.query_params.get("address", "").lower()
        return JSONResponse({"deployed": address in self.deployed})

    async def read(self, request: Request) -> JSONResponse:
        """Gamma and the CLOB's public reads, as `Polymarket` answers them."""
        status, body = self.data.route(request.url.path, dict(request.query_params))
        return JSONResponse(body, status_code=status)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/auth/api-key", self.create_key, methods=["POST"]),
                Route("/auth/derive-api-key", self.derive_key, methods=["GET"]),
                Route("/order", self.post_order, methods=["POST"]),
                Route("/data/order/{order_id}", self.get_order, methods=["GET"]),
                Route("/markets-by-token/{token}", self.markets_by_token, methods=["GET"]),
                Route("/clob-markets/{condition}", self.clob_market, methods=["GET"]),
                Route("/neg-risk", self.neg_risk_flag, methods=["GET"]),
                Route("/deployed", self.relayer_deployed, methods=["GET"]),
                Route("/{path:path}", self.read, methods=["GET"]),
            ]
        )


class Exchange(AsgiServer):
    """`ClobV2` under uvicorn on a free port of 127.0.0.1 while entered."""

    def __init__(self, clob: ClobV2) -> None:
        super().__init__(clob.app())
        self.clob = clob
