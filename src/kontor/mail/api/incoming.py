from ninja import Router

router = Router(tags=["e-mail"])
