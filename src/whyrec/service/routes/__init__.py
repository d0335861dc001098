"""The API's endpoints, one APIRouter per area; `app.create_app` includes them."""
