"""The extractive composer: no model, deterministic. It states spec values and quotes evidence word for word, so
every sentence is traceable; it is the fallback whenever no LLM is available."""

from __future__ import annotations

from collections.abc import Sequence

from whyrec.agent.draft import ClaimListener, Draft, DraftClaim, DraftRequest, Usage
from whyrec.agent.item_quote import MIN_QUOTE_WORDS, POSITIVE_RATING
from whyrec.agent.item_quote import quote as _quote
from whyrec.schema import ClaimVerdict, Evidence, ModelRun, Product


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?", "…", '"')) else f"{text}."


class ExtractiveComposer:
    """Two to four sentences: what the item is and costs, what whyrec counted about this shopper and the item, a
    reviewer quote, one matching past purchase."""

    name = "extractive"
    rewrites = False

    def compose(self, request: DraftRequest, on_claim: ClaimListener | None = None) -> Draft:
        product, evidence = request.product, request.evidence
        by_field = {e.field: e for e in evidence if e.kind == "spec" and e.field}
        claims: list[DraftClaim] = []
        if fact := self._item_fact(product, by_field):
            claims.append(fact)
        # whyrec's own words: what links this shopper to the item (a count over their liked history)
        tied = [e for e in evidence if e.kind == "signal" and e.user_id is not None]
        claims += [DraftClaim(text=_sentence(e.text), cites=[e.id]) for e in tied[:1]]
        reviews = [e for e in evidence if e.kind == "review" and len(e.text.split()) >= MIN_QUOTE_WORDS]
        # Prefer what satisfied reviewers said; a recommendation is not explained by a complaint.
        reviews.sort(key=lambda e: (e.rating is not None and e.rating < POSITIVE_RATING, e.rank))
        for review in reviews[: 2 - len(tied[:1])]:
            claims.append(DraftClaim(text=f'A reviewer wrote: "{_quote(review.text)}"', cites=[review.id]))
        history = [e for e in evidence if e.kind == "history" and (e.rating is None or e.rating >= POSITIVE_RATING)]
        if history:
            claims.append(DraftClaim(text=f"In your history: {_sentence(history[0].text)}", cites=[history[0].id]))
        seller = [e for e in evidence if e.kind == "description" or e.field == "feature"]
        if len(claims) < 2 and seller:  # thin evidence: let the seller's own words make the second sentence
            claims.append(DraftClaim(text=f'The seller says: "{_quote(seller[0].text)}"', cites=[seller[0].id]))
        if on_claim is not None:
            for claim in claims[:4]:
                on_claim(claim)
        return Draft(claims=claims[:4])

    def repair(self, request: DraftRequest, draft: Draft, rejected: Sequence[ClaimVerdict]) -> Draft:
        return Draft(claims=[])  # it quotes; a quote the checker rejects has no better wording

    def describe(self, usage: Usage) -> ModelRun | None:
        return None

    @staticmethod
    def _item_fact(product: Product, by_field: dict[str, Evidence]) -> DraftClaim | None:
        title, brand, price = by_field.get("title"), by_field.get("brand"), by_field.get("price")
        if title is None:
            return None
        text, cites = title.text, [title.id]
        if brand is not None and product.brand and product.brand.lower() not in title.text.lower():
            text += f" is from {product.brand}"
            cites.append(brand.id)
        if price is not None:
            text += f"{' and' if len(cites) > 1 else ''} costs {price.text.split(':', 1)[1].strip()}"
            cites.append(price.id)
        return DraftClaim(text=_sentence(text), cites=cites) if len(cites) > 1 else None
