"""attempt questions kept as written: json instead of jsonb on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 14:30:00

An attempt's drawn questions are read back as text on every submission and recognised without
parsing (learning.quizzes.services.drawn_questions); jsonb stores them parsed and writes them
back with the keys reordered, so every submission parsed 20 KB of JSON. SQLite keeps JSON as
text already: nothing changes there.
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("quiz_attempts", "questions", type_=postgresql.JSON(),
                    existing_type=postgresql.JSONB(), existing_nullable=False,
                    postgresql_using="questions::json")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.alter_column("quiz_attempts", "questions", type_=postgresql.JSONB(),
                    existing_type=postgresql.JSON(), existing_nullable=False,
                    postgresql_using="questions::jsonb")
