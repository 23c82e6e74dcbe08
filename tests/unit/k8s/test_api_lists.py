"""Lists come a page at a time, so the index is loaded without holding every object."""

from __future__ import annotations

from typing import Any

from kron.k8s.api import KubeApi


class PagedApi(KubeApi):
    def __init__(self, pages: list[list[str]]) -> None:
        self.pages = pages
        self.queries: list[list[tuple[str, str]]] = []

    async def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        query = kwargs.get("query") or []
        self.queries.append(query)
        index = int(dict(query).get("continue", "0"))
        last = index == len(self.pages) - 1
        return {
            "metadata": {"continue": "" if last else str(index + 1), "resourceVersion": "42"},
            "items": [{"metadata": {"name": n}} for n in self.pages[index]],
        }


async def test_pages_are_yielded_one_by_one_with_the_selector() -> None:
    api = PagedApi([["a", "b"], ["c"], ["d"]])
    seen = []
    async for page in api.list_pages("/x", label_selector="k", page=2):
        seen.append([item["metadata"]["name"] for item in page.items])
    assert seen == [["a", "b"], ["c"], ["d"]]
    assert all(("labelSelector", "k") in q and ("limit", "2") in q for q in api.queries)


async def test_list_all_joins_the_pages_and_keeps_the_version() -> None:
    listing = await PagedApi([["a"], ["b", "c"]]).list_all("/x")
    assert [i["metadata"]["name"] for i in listing.items] == ["a", "b", "c"]
    assert listing.resource_version == "42"
